#!/usr/bin/env bash
# Runs libvirtd + virtlogd inside a dedicated network namespace ("lab-vms") so that
# everything libvirt does to the network (bridges, dnsmasq, iptables rules, sysctls)
# happens there and the root network namespace is never touched.
#
#   scripts/libvirt-netns.sh start    create netns lab-vms (lo up), fix /dev/kvm mode,
#                                     start virtlogd + libvirtd in it, ensure pool "default"
#   scripts/libvirt-netns.sh stop     remove lab-* domains/networks, stop the daemons
#                                     running in lab-vms, delete the netns
#   scripts/libvirt-netns.sh status   tell whether the daemons run and in which netns
#
# The libvirt API socket (/run/libvirt/libvirt-sock) is a file, so `virsh` works from any
# network namespace; anything that talks to a VM over the network (vagrant up/ssh, ssh)
# must run inside: `ip netns exec lab-vms vagrant up --provider libvirt`.
# Installs nothing. Needs root.
set -euo pipefail

NETNS=${LAB_VMS_NETNS:-lab-vms}
URI=qemu:///system
POOL=default
POOL_DIR=/var/lib/libvirt/images
INSTALL_HINT="apt-get install -y --no-install-recommends vagrant-libvirt libvirt-daemon-system qemu-system-x86 qemu-utils debootstrap dnsmasq-base"
WAIT_SECS=${LAB_VMS_WAIT_SECS:-180}

die() { echo "libvirt-netns: error: $*" >&2; exit 1; }
log() { echo "libvirt-netns: $*"; }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

need_tools() {
  local missing=()
  for t in ip libvirtd virtlogd virsh dnsmasq; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die "not installed: ${missing[*]}; install with: $INSTALL_HINT"
  fi
}

netns_exists() { [ -e "/run/netns/$NETNS" ]; }

# netns name of a pid ("" = root / unnamed namespace)
pid_netns() { ip netns identify "$1" 2>/dev/null || true; }

# pids of daemon $1 (exact process name)
daemon_pids() { pgrep -x "$1" || true; }

# pids of daemon $1 running inside $NETNS
daemon_pids_in_netns() {
  local p
  for p in $(daemon_pids "$1"); do
    [ "$(pid_netns "$p")" = "$NETNS" ] && echo "$p"
  done
  return 0
}

# refuse to work next to a daemon that runs outside lab-vms: it would own the same
# sockets/pid files and its networks would be in the wrong namespace
check_foreign() {
  local d p ns
  for d in libvirtd virtlogd; do
    for p in $(daemon_pids "$d"); do
      ns=$(pid_netns "$p")
      if [ "$ns" != "$NETNS" ]; then
        die "$d (pid $p) runs outside netns $NETNS (netns: '${ns:-root/unnamed}'); stop it first (kill $p)"
      fi
    done
  done
}

virsh_q() { virsh -q -c "$URI" "$@"; }

wait_api() {
  local i=0
  until timeout 60 virsh -c "$URI" list >/dev/null 2>&1; do
    i=$((i + 2))
    if [ "$i" -ge "$WAIT_SECS" ]; then
      die "libvirtd does not answer on $URI after ${WAIT_SECS}s (see /var/log/libvirt/libvirtd.log if any)"
    fi
    sleep 2
  done
}

ensure_pool() {
  mkdir -p "$POOL_DIR"
  if ! virsh_q pool-info "$POOL" >/dev/null 2>&1; then
    log "defining storage pool $POOL at $POOL_DIR"
    virsh_q pool-define-as "$POOL" dir --target "$POOL_DIR" >/dev/null
  fi
  local target
  target=$(virsh_q pool-dumpxml "$POOL" | sed -n 's:.*<path>\(.*\)</path>.*:\1:p' | head -n 1)
  [ "$target" = "$POOL_DIR" ] || log "warning: pool $POOL points at $target, not $POOL_DIR"
  local info
  info=$(virsh_q pool-info "$POOL")
  if ! grep -Eq '^State:[[:space:]]+running' <<<"$info"; then
    virsh_q pool-start "$POOL" >/dev/null
  fi
  virsh_q pool-autostart "$POOL" >/dev/null 2>&1 || true
  virsh_q pool-refresh "$POOL" >/dev/null
}

cmd_start() {
  need_root
  need_tools
  check_foreign

  if ! netns_exists; then
    log "creating network namespace $NETNS"
    ip netns add "$NETNS"
  fi
  ip -n "$NETNS" link set lo up

  # group-readable /dev/kvm: otherwise libvirt re-probes QEMU on every API call.
  # (VMs still use TCG; KVM is never used.)
  if [ -e /dev/kvm ]; then
    chgrp kvm /dev/kvm 2>/dev/null || true
    chmod 660 /dev/kvm
  fi

  # never autostart libvirt's "default" NAT network
  rm -f /etc/libvirt/qemu/networks/autostart/default.xml

  if [ -z "$(daemon_pids_in_netns virtlogd)" ]; then
    log "starting virtlogd in netns $NETNS"
    ip netns exec "$NETNS" virtlogd -d
  fi
  if [ -z "$(daemon_pids_in_netns libvirtd)" ]; then
    log "starting libvirtd in netns $NETNS"
    ip netns exec "$NETNS" libvirtd -d
  fi
  wait_api
  ensure_pool
  log "running: libvirtd pid $(daemon_pids_in_netns libvirtd | xargs), virtlogd pid $(daemon_pids_in_netns virtlogd | xargs), netns $NETNS, pool $POOL ($POOL_DIR)"
}

kill_wait() {
  local name=$1 p i
  for p in $(daemon_pids_in_netns "$name"); do
    log "stopping $name (pid $p)"
    kill "$p" 2>/dev/null || true
    for i in $(seq 1 30); do
      kill -0 "$p" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$p" 2>/dev/null; then
      log "$name (pid $p) did not exit, sending SIGKILL"
      kill -9 "$p" 2>/dev/null || true
    fi
  done
}

cmd_stop() {
  need_root
  need_tools
  if [ -n "$(daemon_pids_in_netns libvirtd)" ] && timeout 60 virsh -c "$URI" list >/dev/null 2>&1; then
    local d n
    for d in $(virsh_q list --all --name | grep '^lab-' || true); do
      log "removing domain $d"
      virsh_q destroy "$d" >/dev/null 2>&1 || true
      virsh_q undefine "$d" --nvram >/dev/null 2>&1 || virsh_q undefine "$d" >/dev/null 2>&1 || true
    done
    for n in $(virsh_q net-list --all --name | grep '^lab-' || true); do
      log "removing network $n"
      virsh_q net-destroy "$n" >/dev/null 2>&1 || true
      virsh_q net-undefine "$n" >/dev/null 2>&1 || true
    done
    local others
    others=$(virsh_q list --name | grep -v '^lab-' | xargs || true)
    [ -z "$others" ] || log "warning: domains not named lab-* keep running without libvirtd: $others"
  fi
  kill_wait libvirtd
  kill_wait virtlogd
  # dnsmasq instances libvirt started for networks of this netns (normally gone with the networks)
  local p
  for p in $(pgrep -x dnsmasq || true); do
    [ "$(pid_netns "$p")" = "$NETNS" ] && kill "$p" 2>/dev/null || true
  done
  if netns_exists; then
    log "deleting network namespace $NETNS"
    ip netns delete "$NETNS"
  fi
  log "stopped"
}

cmd_status() {
  local rc=0 d p found
  if netns_exists; then echo "netns $NETNS: present"; else echo "netns $NETNS: absent"; rc=1; fi
  for d in libvirtd virtlogd; do
    found=0
    for p in $(daemon_pids "$d"); do
      found=1
      ns=$(pid_netns "$p")
      echo "$d: running, pid $p, netns ${ns:-root/unnamed}"
      [ "$ns" = "$NETNS" ] || rc=1
    done
    if [ "$found" = 0 ]; then echo "$d: not running"; rc=1; fi
  done
  if [ -n "$(daemon_pids_in_netns libvirtd)" ] && timeout 60 virsh -c "$URI" list >/dev/null 2>&1; then
    echo "domains:  $(virsh_q list --all --name | xargs)"
    echo "networks: $(virsh_q net-list --all --name | xargs)"
    echo "pools:    $(virsh_q pool-list --all --name | xargs)"
  fi
  return $rc
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

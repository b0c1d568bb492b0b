#!/usr/bin/env bash
# Builds the Vagrant libvirt box "lab/debian12" from Debian's archive, adds it to Vagrant and
# places its image in libvirt's "default" pool under the volume name vagrant-libvirt 0.11.2
# looks for (so `vagrant up` skips its slow chunked upload).
#
#   scripts/build-box.sh            build + add (exits early if the box is already added)
#
# Box layout (tar of uncompressed files):
#   box.img        qcow2, one unpartitioned ext4 filesystem (root=/dev/vda)
#   vmlinuz        kernel and initrd, booted directly by libvirt (no bootloader; loop
#   initrd.img     devices here have no partition support)
#   Vagrantfile    libvirt settings: TCG (driver qemu, cpu qemu64), kernel/initrd/cmd_line
#   metadata.json  provider libvirt, format qcow2, virtual_size (GB)
#
# Guest: Debian 12 minbase + kernel, systemd, sshd, ifupdown/dhclient (eth0 = management
# NIC, DHCP), sudo, python3, iproute2, iptables, conntrack, tcpdump, procps, kmod, ping,
# docker.io (docker.service not started at boot; docker.socket is, so the first `docker`
# command or `systemctl start docker` starts it). User vagrant with Vagrant's insecure key
# and passwordless sudo. SSH host keys are made at first boot (unique per VM) and printed
# to the serial console between "-----BEGIN SSH HOST KEY KEYS-----" / "-----END ...".
#
# Environment: BOX_NAME (lab/debian12), WORK (/var/tmp/lab-box), MIRROR (from apt sources),
# DISK_GB (4). Needs root, debootstrap, qemu-img, mkfs.ext4, vagrant; libvirtd is started
# in netns lab-vms by scripts/libvirt-netns.sh for the pool copy.
set -euo pipefail

BOX_NAME=${BOX_NAME:-lab/debian12}
WORK=${WORK:-/var/tmp/lab-box}
DISK_GB=${DISK_GB:-4}
SUITE=bookworm
POOL=default
POOL_DIR=/var/lib/libvirt/images
HERE=$(cd "$(dirname "$0")" && pwd)
INSTALL_HINT="apt-get install -y --no-install-recommends vagrant-libvirt libvirt-daemon-system qemu-system-x86 qemu-utils debootstrap dnsmasq-base"
BOX_FILE="$WORK/$(echo "$BOX_NAME" | tr '/' '-').box"
VAGRANT_HOME=${VAGRANT_HOME:-$HOME/.vagrant.d}
PACKAGES=linux-image-amd64,systemd-sysv,openssh-server,ifupdown,isc-dhcp-client,sudo,python3,iproute2,iptables,conntrack,tcpdump,procps,kmod,iputils-ping,docker.io,apparmor,nftables

die() { echo "build-box: error: $*" >&2; exit 1; }
log() { echo "build-box: $*"; }

TIMINGS=()
stage_start() { STAGE=$1; STAGE_T0=$(date +%s.%N); log "== $STAGE"; }
stage_end() {
  local dt
  dt=$(awk -v a="$STAGE_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  TIMINGS+=("$STAGE: ${dt}s")
  log "== $STAGE took ${dt}s"
}

[ "$(id -u)" = 0 ] || die "must run as root"
for t in debootstrap qemu-img mkfs.ext4 vagrant virsh tar; do
  command -v "$t" >/dev/null 2>&1 || die "'$t' not found; install with: $INSTALL_HINT"
done

box_listed() {
  local names
  names=$(vagrant box list --machine-readable 2>/dev/null | awk -F, '$3=="box-name"{print $4}')
  grep -qx "$BOX_NAME" <<<"$names"
}

# Volume name vagrant-libvirt 0.11.2 (action/handle_box_image.rb, get_volume_name) uses for a
# v1 box (no "disks" in metadata.json): "<name with / -> -VAGRANTSLASH->_vagrant_box_image_
# <version>_box.img"; a box added from a file has version "0", which is replaced with
# "0_<mtime of box.img in the Vagrant box dir, epoch seconds>".
box_dir() { echo "$VAGRANT_HOME/boxes/$(echo "$BOX_NAME" | sed 's:/:-VAGRANTSLASH-:g')/0/libvirt"; }
volume_name() {
  local img mtime
  img="$(box_dir)/box.img"
  [ -f "$img" ] || die "box image not found at $img"
  mtime=$(stat -c %Y "$img")
  echo "$(echo "$BOX_NAME" | sed 's:/:-VAGRANTSLASH-:g')_vagrant_box_image_0_${mtime}_box.img"
}

# QEMU runs as user libvirt-qemu and opens the kernel/initrd inside the Vagrant box dir
# itself: every directory above it must be searchable by that user (/root is 0700 on
# Debian, so it gets o+x: traversal only, no listing).
fix_box_dir_access() {
  local f d part
  f=$(box_dir)/vmlinuz
  id libvirt-qemu >/dev/null 2>&1 || return 0
  runuser -u libvirt-qemu -- test -r "$f" && return 0
  d=""
  for part in $(dirname "$f" | tr '/' ' '); do   # top-down: /root, /root/.vagrant.d, ...
    d="$d/$part"
    if ! runuser -u libvirt-qemu -- test -x "$d"; then
      log "chmod o+x $d (QEMU, user libvirt-qemu, must reach $f)"
      chmod o+x "$d"
    fi
  done
  runuser -u libvirt-qemu -- test -r "$f" || die "user libvirt-qemu cannot read $f"
}

pool_copy() {
  fix_box_dir_access
  "$HERE/libvirt-netns.sh" start >/dev/null
  local vol img
  vol=$(volume_name)
  img="$(box_dir)/box.img"
  if virsh -q -c qemu:///system vol-info --pool "$POOL" "$vol" >/dev/null 2>&1; then
    log "pool $POOL already has volume $vol"
    return 0
  fi
  log "copying $img -> $POOL_DIR/$vol"
  cp --sparse=always "$img" "$POOL_DIR/$vol.tmp"
  chmod 0644 "$POOL_DIR/$vol.tmp"
  mv "$POOL_DIR/$vol.tmp" "$POOL_DIR/$vol"
  virsh -q -c qemu:///system pool-refresh "$POOL" >/dev/null
  virsh -q -c qemu:///system vol-info --pool "$POOL" "$vol" >/dev/null || die "volume $vol not visible in pool $POOL"
  log "pool volume: $vol"
}

if box_listed; then
  log "box $BOX_NAME is already added ($(box_dir)); ensuring its pool volume"
  stage_start "pool copy"; pool_copy; stage_end
  log "nothing else to do"
  exit 0
fi

# --- mirror: the plain Debian archive line of this machine's apt sources ----------------
find_mirror() {
  local f
  # deb822 .sources
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$SUITE" '
      BEGIN { RS=""; FS="\n" }
      {
        uris=""; suites=""; comps=""; types=""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { uris=$i; sub(/^URIs:[ \t]*/, "", uris) }
          if ($i ~ /^Suites:/) { suites=" " $i " "; sub(/^ Suites:/, "", suites) }
          if ($i ~ /^Components:/) { comps=" " $i " " }
          if ($i ~ /^Types:/) { types=" " $i " " }
        }
        if (types ~ / deb / && suites ~ (" " suite " ") && comps ~ / main /) { split(uris, u, " "); print u[1]; exit }
      }' "$f"
  done
  # one-line style
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$SUITE" '$1=="deb" {
        i=2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i+1)==suite) { for (j=i+2; j<=NF; j++) if ($j=="main") { print $i; exit } }
      }' "$f"
  done
}
MIRROR=${MIRROR:-$(find_mirror | head -n 1)}
[ -n "$MIRROR" ] || die "no 'deb <mirror> $SUITE main' source found in /etc/apt/sources.list(.d); set MIRROR=..."
log "mirror: $MIRROR"

KEY_PUB=""
for k in /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub $(dpkg -L vagrant 2>/dev/null | grep -E 'keys/vagrant\.pub$' || true); do
  [ -f "$k" ] && { KEY_PUB=$k; break; }
done
[ -n "$KEY_PUB" ] || die "Vagrant's insecure public key (keys/vagrant.pub of the vagrant package) not found"

T_ALL=$(date +%s.%N)
mkdir -p "$WORK"
ROOTFS="$WORK/rootfs"
BOXDIR="$WORK/box"
rm -rf "$ROOTFS" "$BOXDIR" "$WORK/disk.raw" "$BOX_FILE"

# --- 1. debootstrap --------------------------------------------------------------------
stage_start "debootstrap"
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
  tail -n 30 "$WORK/debootstrap.log" >&2
  [ -f "$ROOTFS/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOTFS/debootstrap/debootstrap.log" >&2
  die "debootstrap failed (full log: $WORK/debootstrap.log)"
fi
stage_end

# --- 2. configure the guest ------------------------------------------------------------
stage_start "configure"
R=$ROOTFS
echo debian12 >"$R/etc/hostname"
cat >"$R/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	debian12
::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
EOF
echo '/dev/vda / ext4 errors=remount-ro 0 1' >"$R/etc/fstab"
cat >"$R/etc/network/interfaces" <<'EOF'
# eth0 is Vagrant's management NIC (kernel command line has net.ifnames=0)
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

auto eth0
iface eth0 inet dhcp
EOF
: >"$R/etc/resolv.conf"

# vagrant user: insecure key, passwordless sudo
chroot "$R" useradd -m -s /bin/bash -U vagrant
chroot "$R" usermod -p '*' vagrant
install -d -m 0700 -o 0 -g 0 "$R/home/vagrant/.ssh"
install -m 0600 "$KEY_PUB" "$R/home/vagrant/.ssh/authorized_keys"
chroot "$R" chown -R vagrant:vagrant /home/vagrant/.ssh
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' >"$R/etc/sudoers.d/vagrant"
chmod 0440 "$R/etc/sudoers.d/vagrant"

# sshd: no DNS lookups; host keys made at first boot (unique per VM) and shown on the
# serial console so a host can pin them
mkdir -p "$R/etc/ssh/sshd_config.d"
echo 'UseDNS no' >"$R/etc/ssh/sshd_config.d/10-vagrant.conf"
rm -f "$R"/etc/ssh/ssh_host_*
cat >"$R/usr/local/sbin/lab-ssh-hostkeys" <<'EOF'
#!/bin/sh
# make missing SSH host keys, then print the public keys to the serial console
ssh-keygen -A >/dev/null
{
  echo "-----BEGIN SSH HOST KEY KEYS-----"
  cat /etc/ssh/ssh_host_*_key.pub
  echo "-----END SSH HOST KEY KEYS-----"
} >/dev/ttyS0 2>/dev/null || true
EOF
chmod 0755 "$R/usr/local/sbin/lab-ssh-hostkeys"
cat >"$R/etc/systemd/system/lab-ssh-hostkeys.service" <<'EOF'
[Unit]
Description=Generate SSH host keys and print them to the serial console
Before=ssh.service
DefaultDependencies=no
After=local-fs.target
Wants=local-fs.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/lab-ssh-hostkeys

[Install]
WantedBy=multi-user.target ssh.service
EOF
systemctl --root="$R" enable lab-ssh-hostkeys.service >/dev/null 2>&1

# unique machine-id per VM (generated at first boot)
: >"$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"

# keep boots light under TCG: docker starts on demand (docker.socket), no periodic jobs
systemctl --root="$R" disable docker.service containerd.service >/dev/null 2>&1 || true
systemctl --root="$R" enable docker.socket >/dev/null 2>&1 || true
for t in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer; do
  systemctl --root="$R" mask "$t" >/dev/null 2>&1 || true
done

# kernel + initrd for direct boot
KVER=$(basename "$(ls -1 "$R"/boot/vmlinuz-* | sort -V | tail -n 1)" | sed 's/^vmlinuz-//')
[ -n "$KVER" ] && [ -f "$R/boot/initrd.img-$KVER" ] || die "kernel/initrd missing in rootfs /boot"
mkdir -p "$BOXDIR"
cp "$R/boot/vmlinuz-$KVER" "$BOXDIR/vmlinuz"
cp "$R/boot/initrd.img-$KVER" "$BOXDIR/initrd.img"
chmod 0644 "$BOXDIR/vmlinuz" "$BOXDIR/initrd.img"

# trim
rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/* "$R"/var/log/*.log "$R/debootstrap"
log "kernel $KVER, rootfs $(du -sh "$R" | cut -f1)"
stage_end

# --- 3. disk: ext4 image straight from the directory, then qcow2 ------------------------
stage_start "disk"
truncate -s "${DISK_GB}G" "$WORK/disk.raw"
mkfs.ext4 -q -F -L root -d "$R" "$WORK/disk.raw"
qemu-img convert -f raw -O qcow2 "$WORK/disk.raw" "$BOXDIR/box.img"
rm -f "$WORK/disk.raw"
stage_end

# --- 4. package + vagrant box add -------------------------------------------------------
stage_start "box add"
cat >"$BOXDIR/metadata.json" <<EOF
{"provider": "libvirt", "format": "qcow2", "virtual_size": $DISK_GB}
EOF
cat >"$BOXDIR/Vagrantfile" <<'EOF'
# Box-level defaults of lab/debian12: QEMU software emulation (TCG, never KVM) and direct
# kernel boot of the unpartitioned root disk.
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    box_dir = File.expand_path(File.dirname(__FILE__))
    lv.driver = "qemu"
    lv.cpu_mode = "custom"
    lv.cpu_model = "qemu64"
    lv.kernel = File.join(box_dir, "vmlinuz")
    lv.initrd = File.join(box_dir, "initrd.img")
    lv.cmd_line = "root=/dev/vda rw net.ifnames=0 console=ttyS0"
    lv.disk_bus = "virtio"
  end
end
EOF
tar -C "$BOXDIR" -cf "$BOX_FILE" metadata.json Vagrantfile box.img vmlinuz initrd.img
rm -rf "$BOXDIR"
vagrant box add --name "$BOX_NAME" "$BOX_FILE"
stage_end

# --- 5. pool copy -----------------------------------------------------------------------
stage_start "pool copy"
pool_copy
stage_end

rm -rf "$ROOTFS"
TOTAL=$(awk -v a="$T_ALL" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo
log "box:     $BOX_NAME ($(box_dir))"
log "file:    $BOX_FILE ($(du -h "$BOX_FILE" | cut -f1))"
log "volume:  $POOL/$(volume_name)"
log "timings:"
for t in "${TIMINGS[@]}"; do log "  $t"; done
log "  total: ${TOTAL}s"

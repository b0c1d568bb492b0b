#!/usr/bin/env bash
# Installs what lab needs on a Debian machine (as root), then the tool itself.
#   scripts/setup.sh              what running labs needs
#   scripts/setup.sh --for-tests  also what `npm test` needs: tshark, chromium, OpenSSH, sudo, socat,
#                                 vagrant with vagrant-libvirt, libvirt, QEMU and debootstrap (the
#                                 real-VM test), and an unprivileged user "labtest" (rootless and ssh tests)
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (sudo scripts/setup.sh): it installs Debian packages" >&2
  exit 1
fi
packages=(iproute2 iptables nftables conntrack tcpdump tshark python3 procps)
# --kernel: QEMU, the busybox of the guest's initramfs (and of a real engine's image, --docker), depmod/modprobe for the guest's modules, xz and zstd (kernels and modules), the archive keys
packages+=(qemu-system-x86 busybox-static kmod xz-utils zstd debian-archive-keyring)
if [ "${1:-}" = "--for-tests" ]; then
  packages+=(chromium openssh-server openssh-client sudo socat vagrant vagrant-libvirt libvirt-daemon-system dnsmasq-base qemu-system-x86 qemu-utils debootstrap)
fi
apt-get update -qq
# Packages must not start daemons here: libvirtd would put its bridges and firewall rules into the
# machine's own network namespace. scripts/libvirt-netns.sh starts it in a namespace of its own.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=true
  trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
if $own_policy; then rm -f "$policy"; trap - EXIT; fi
rm -f /etc/libvirt/qemu/networks/autostart/default.xml
scripts/fetch-docker-proxy.sh || echo "setup: docker-proxy unavailable; the docker-desktop-udp lab will say so"
if [ "${1:-}" = "--for-tests" ]; then
  # An unprivileged user for the rootless tests, able to log in with a key and to sudo (ssh tests).
  id labtest >/dev/null 2>&1 || useradd --create-home labtest
  usermod -p '*' labtest
  echo 'labtest ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/lab-labtest
  chmod 440 /etc/sudoers.d/lab-labtest
fi
npm ci --no-audit --no-fund
npm run build
# Real Docker engines for --docker (Debian's docker.io 20.10 and 26.1 with their containerd and runc), unpacked into
# ~/.cache/lab/engines, never installed: the machine's own Docker, if any, is left alone.
node bin/lab.cjs engines --fetch 20.10,26.1 || echo "setup: Docker engines unavailable; --docker 20.10/26.1 will fetch them when first used"
# `lab` on the PATH from any folder: a global link to this checkout (npm's name for the package is container-netlab;
# "lab" on the npm registry is an unrelated package, so `npx lab` outside this checkout must not be relied on).
npm link --no-audit --no-fund >/dev/null
echo "setup: done. Try: sudo lab up docker-1090 && sudo lab run docker-1090"

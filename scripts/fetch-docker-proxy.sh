#!/usr/bin/env bash
# Puts Docker's userland proxy at ~/.cache/lab/docker-proxy/docker-proxy (LAB_CACHE, XDG_CACHE_HOME respected), taken out of Debian's docker.io
# package without installing the package or starting dockerd (apt-get download + dpkg-deb -x).
# docker-proxy flags: -proto tcp|udp -host-ip IP -host-port N -container-ip IP -container-port N.
# dockerd passes it a pipe on fd 3 and reads "0" (ready) or "1\n<error>" from it; lab does the same.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lab}/docker-proxy/docker-proxy"
if [ -x "$target" ]; then
  echo "docker-proxy: $target"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download docker.io >/dev/null 2>"$work/apt.err"); then
  echo "fetch-docker-proxy: apt-get download docker.io failed:" >&2
  cat "$work/apt.err" >&2
  echo "hint: run 'apt-get update' first (as root)" >&2
  exit 1
fi
dpkg-deb -x "$work"/docker.io_*.deb "$work/root"
found=$(find "$work/root" -type f -name docker-proxy | head -n 1)
if [ -z "$found" ]; then
  echo "fetch-docker-proxy: the docker.io package has no docker-proxy" >&2
  exit 1
fi
mkdir -p "$(dirname "$target")"
install -m 0755 "$found" "$target"
echo "docker-proxy: $target ($(stat -c %s "$target") bytes, from $(basename "$work"/docker.io_*.deb))"

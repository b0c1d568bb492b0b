#!/bin/sh
# Lists the sysctls a fresh network namespace may write (per namespace), interface names folded into "*".
# Feeds src/lab/sysctls-netns.ts. net.bridge.* shows up only where br_netfilter is loaded, and only on Linux 5.3 and later
# (commit 22567590b2e6, "netfilter: bridge: namespace bridge netfilter sysctls"); run it on such a machine. Needs root (or unprivileged user namespaces: unshare --user --map-root-user --net).
set -eu
unshare --net sh -c 'cd /proc/sys && find net -type f -perm /200' |
  sed -e 's#/conf/[^/]*/#/conf/*/#; s#/neigh/[^/]*/#/neigh/*/#' | tr / . | sort -u

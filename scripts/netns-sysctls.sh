#!/bin/sh
# Lists the sysctls a fresh network namespace may write (per namespace), interface names folded into "*".
# Feeds src/lab/sysctls-netns.ts. Needs root (or unprivileged user namespaces: unshare --user --map-root-user --net).
set -eu
unshare --net sh -c 'cd /proc/sys && find net -type f -perm /200' |
  sed -e 's#/conf/[^/]*/#/conf/*/#; s#/neigh/[^/]*/#/neigh/*/#' | grep -v '^net/bridge/' | tr / . | sort -u

#!/bin/sh
# The first stage of a lab kernel's guest (busybox, from the initramfs that src/kernels/initramfs.ts builds):
# load the virtio and 9p modules of this kernel, mount the host's root read-only, tmpfs where the
# tools write, the lab's work folder read-write at its host path, then hand over to the exec server.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
read up _ </proc/uptime; echo "lab: init at $up s (uptime)"
for m in $(cat /modules.list); do insmod "/modules/$m" 2>/dev/null; done
work=; server=; pkg=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    lab.work=*) work="${arg#lab.work=}" ;;
    lab.server=*) server="${arg#lab.server=}" ;;
    lab.pkg=*) pkg="${arg#lab.pkg=}" ;;
  esac
done
opts=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /newroot
mount -t 9p -o "$opts,ro,cache=loose" root /newroot || { echo "lab: cannot mount the host root"; poweroff -f; }
for d in tmp run var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "/newroot/$d"; done
mkdir -p /newroot/run/lab-kernel /newroot/run/netns
mount -t 9p -o "$opts,ro,cache=loose" kernel /newroot/run/lab-kernel
if [ -n "$pkg" ]; then
  mkdir -p "/newroot$pkg" 2>/dev/null
  mount -t 9p -o "$opts,ro,cache=loose" pkg "/newroot$pkg" || echo "lab: cannot mount the package at $pkg"
fi
if [ -n "$work" ]; then
  mkdir -p "/newroot$work" 2>/dev/null
  mount -t 9p -o "$opts,cache=none" work "/newroot$work" || echo "lab: cannot mount the work folder at $work"
fi
printf '#!/bin/sh\nexec /sbin/modprobe -d /run/lab-kernel "$@"\n' > /newroot/run/lab-modprobe
chmod 755 /newroot/run/lab-modprobe
echo /run/lab-modprobe > /proc/sys/kernel/modprobe
read up _ </proc/uptime; echo "lab: guest ready for the exec server at $up s (uptime)"
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /usr/bin/python3 -S -u "$server" lab.0

"""sshd for the host, over virtio-serial ports instead of the network (src/providers/qemu/ssh.ts says why).

  python3 -S -u ssh_ports.py SSHD_CONFIG LOG PORT_NAME...

For every port named (lab.ssh0, ...): wait until the host end connects (the port stops reporting POLLHUP), run one
`sshd -i` (inetd mode: the SSH protocol on stdin/stdout) on it, and once that session ends wait for the host to hang
up before serving the next. No TCP socket is opened in the guest: the lab's own conntrack tables never see ssh.
Readiness is "0" on fd 3 once the ports are open (the exec server's service op waits for it).
"""
import os
import select
import subprocess
import sys
import threading
import time

SSHD = "/usr/sbin/sshd"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def find_port(name):
    base = "/sys/class/virtio-ports"
    for entry in os.listdir(base):
        with open(os.path.join(base, entry, "name")) as f:
            if f.read().strip() == name:
                return "/dev/" + entry
    raise SystemExit("no virtio port named " + name)


def host_connected(fd):
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLOUT)
    return not any(ev & select.POLLHUP for _, ev in poller.poll(0))


def serve(name, fd, config, log):
    while True:
        # A port whose host end is closed reports POLLHUP at once, so this polls; 0.2 s is the exec server's pace too.
        while not host_connected(fd):
            time.sleep(0.2)
        with open(log, "ab") as err:
            session = subprocess.Popen([SSHD, "-i", "-e", "-f", config], stdin=fd, stdout=fd, stderr=err,
                                       env={"PATH": PATH, "LANG": "C.UTF-8"})
            session.wait()
        # The same client may still hold the port for a moment: a new sshd must not answer it.
        deadline = time.time() + 30
        while host_connected(fd) and time.time() < deadline:
            time.sleep(0.2)


def main():
    config, log, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    fds = [(name, os.open(find_port(name), os.O_RDWR)) for name in names]
    for name, fd in fds:
        threading.Thread(target=serve, args=(name, fd, config, log), daemon=True).start()
    try:
        os.write(3, b"0")
        os.close(3)
    except OSError:
        pass
    threading.Event().wait()


if __name__ == "__main__":
    main()

"""sshd for the host, over virtio-serial ports instead of the network (src/providers/qemu/ssh.ts says why).

  python3 -S -u ssh_ports.py SSHD_CONFIG LOG PORT_NAME...

For every port named (lab.ssh0, ...): wait until the host end connects (the port stops reporting POLLHUP), run one
`sshd -i` (inetd mode: the SSH protocol on stdin/stdout) on it, and once that session ends wait for the host to hang
up before serving the next. No TCP socket is opened in the guest: the lab's own conntrack tables never see ssh.
Readiness is "0" on fd 3 once the ports are open (the exec server's service op waits for it).

One loop, fork and exec, no threads and no subprocess module: this runs at every boot of every guest, under software
emulation, where importing subprocess and threading doubles Python's start (docs/ssh.md has the figures).
"""
import os
import select
import sys
import time

SSHD = "/usr/sbin/sshd"
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
# A port whose host end is closed reports POLLHUP at once, so this polls; 0.2 s is the exec server's pace too.
PACE = 0.2
# After a session the same client may still hold the port for a moment: a new sshd must not answer it.
HANG_UP_WAIT = 30


# The exec server's (server.py) own, copied: importing that module would load threading and subprocess.
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


def start_session(fd, config, log_fd):
    pid = os.fork()
    if pid:
        return pid
    try:
        os.dup2(fd, 0)
        os.dup2(fd, 1)
        os.dup2(log_fd, 2)
        os.closerange(3, 1024)
        os.execve(SSHD, [SSHD, "-i", "-e", "-f", config], ENV)
    finally:
        os._exit(127)


def main():
    config, log, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    ports = [os.open(find_port(name), os.O_RDWR) for name in names]
    log_fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(3, b"0")
        os.close(3)
    except OSError:
        pass
    sessions = {}  # port fd -> sshd pid
    hanging_up = {}  # port fd -> until when to wait for the host to close it
    while True:
        for fd, pid in list(sessions.items()):
            if os.waitpid(pid, os.WNOHANG)[0]:
                del sessions[fd]
                hanging_up[fd] = time.time() + HANG_UP_WAIT
        for fd in ports:
            if fd in sessions:
                continue
            connected = host_connected(fd)
            if fd in hanging_up:
                if connected and time.time() < hanging_up[fd]:
                    continue
                del hanging_up[fd]
                continue
            if connected:
                sessions[fd] = start_session(fd, config, log_fd)
        time.sleep(PACE)


if __name__ == "__main__":
    main()

"""One process that configures many network namespaces (run by src/providers/netns/apply.ts as python3 -c).

stdin: JSON {"parallel": n, "namespaces": [{"name": ..., "ip": "batch lines", "sysctls": [[key, value], ...]}]}.
For each namespace it enters /run/netns/<name> (setns, this thread only). A namespace whose lines are all of the
plain shapes every node has (link up, IPv4 address, IPv4 route via a gateway) is configured here over rtnetlink,
without a process; any other gets `ip -batch -` started inside it (the child inherits the namespace: no `ip -n`,
whose mount namespace and /sys remount cost ~3 ms a process), at most n at once. Once a namespace's lines have
succeeded its sysctls are written to /proc/sys, which always shows the namespace of the thread that opens it (no
sysctl process per value). Exit 1 and one line on stderr per failure.
"""
import ctypes
import errno
import json
import os
import socket
import struct
import subprocess
import sys

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def proc_path(key):
    """As sysctl(8) reads a key: one whose first separator is a slash is a path already; otherwise dots and slashes swap."""
    first = next((c for c in key if c in "./"), "/")
    return key if first == "/" else key.translate(str.maketrans("./", "/."))


# rtnetlink, for the lines every node has: "link set X up", "addr add A/P dev X", "route add T via G dev X" (IPv4).
# Sent from here they cost no process at all; a namespace with any other line gets ip -batch for all of its lines.
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE, NLMSG_ERROR = 1, 4, 0x200, 0x400, 2
RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE = 16, 20, 24
IFA_ADDRESS, IFA_LOCAL, RTA_DST, RTA_OIF, RTA_GATEWAY = 1, 2, 1, 4, 5
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, IFF_UP = 254, 3, 0, 1, 1


def ipv4(text):
    """Four bytes as ip(8) reads a dotted quad (inet_pton: no octal, no short forms), None for anything else."""
    try:
        return socket.inet_pton(socket.AF_INET, text)
    except OSError:
        return None


def prefixed(text):
    """(address bytes, prefix length) of A/P or A (a /32), None for anything else."""
    addr, _, plen = text.partition("/")
    if ipv4(addr) is None or (plen and not (plen.isdigit() and int(plen) <= 32)):
        return None
    return ipv4(addr), int(plen) if plen else 32


def parse(line):
    """A netlink request (type, flags, body as a function of ifindex, device) for a line of the plain shapes, else None."""
    w = line.split()
    if len(w) == 4 and w[:2] == ["link", "set"] and w[3] == "up":
        return RTM_NEWLINK, 0, w[2], lambda i: struct.pack("=BxHiII", socket.AF_UNSPEC, 0, i, IFF_UP, IFF_UP)
    create = NLM_F_CREATE | NLM_F_EXCL
    if len(w) == 5 and w[:2] == ["addr", "add"] and w[3] == "dev" and prefixed(w[2]):
        addr, plen = prefixed(w[2])
        local = attr(IFA_LOCAL, addr) + attr(IFA_ADDRESS, addr)
        return RTM_NEWADDR, create, w[4], lambda i: struct.pack("=BBBBi", socket.AF_INET, plen, 0, RT_SCOPE_UNIVERSE, i) + local
    if len(w) == 7 and w[:2] == ["route", "add"] and w[3] == "via" and w[5] == "dev" and ipv4(w[4]) and (w[2] == "default" or prefixed(w[2])):
        dst, plen = (b"", 0) if w[2] == "default" else prefixed(w[2])
        head = struct.pack("=BBBBBBBBI", socket.AF_INET, plen, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0)
        head += (attr(RTA_DST, dst) if plen else b"") + attr(RTA_GATEWAY, ipv4(w[4]))
        return RTM_NEWROUTE, create, w[6], lambda i: head + attr(RTA_OIF, struct.pack("=i", i))
    return None


def attr(kind, data):
    length = 4 + len(data)
    return struct.pack("=HH", length, kind) + data + b"\0" * (-length % 4)


def netlink_apply(name, requests, lines):
    """Send each request and wait for its answer, in order; the socket belongs to the namespace entered before it was opened."""
    enter(name)
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        sock.bind((0, 0))
        for seq, ((kind, flags, device, body), line) in enumerate(zip(requests, lines), 1):
            try:
                index = socket.if_nametoindex(device)
            except OSError:
                raise OSError(19, '%s: "%s": Cannot find device "%s"' % (name, line, device))
            payload = body(index)
            sock.send(struct.pack("=IHHII", 16 + len(payload), kind, NLM_F_REQUEST | NLM_F_ACK | flags, seq, 0) + payload)
            error = answer(sock, seq)
            if error:
                raise OSError(error, '%s: "%s": RTNETLINK answers: %s' % (name, line, os.strerror(error)))
    finally:
        sock.close()


def answer(sock, seq):
    while True:
        data = sock.recv(65536)
        offset = 0
        while offset + 16 <= len(data):
            length, kind, _, got, _ = struct.unpack_from("=IHHII", data, offset)
            if kind == NLMSG_ERROR and got == seq:
                return -struct.unpack_from("=i", data, offset + 16)[0]
            offset += (length + 3) & ~3


def enter(name):
    try:
        fd = os.open(os.path.join("/run/netns", name), os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise OSError(e.errno, "namespace %s: %s" % (name, e.strerror))
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns into %s: %s" % (name, os.strerror(err)))
    finally:
        os.close(fd)


def write_sysctls(name, settings):
    enter(name)
    for key, value in settings:
        path = "/proc/sys/" + proc_path(key)
        try:
            with open(path, "w") as f:
                f.write(value + "\n")
        except OSError as e:
            why = e.strerror
            if key.startswith("net.bridge.") and e.errno == errno.ENOENT and not os.path.isdir("/proc/sys/net/bridge"):
                why += " (br_netfilter is not loaded on this machine; Docker loads it with modprobe br_netfilter, lab loads no module)"
            raise OSError(e.errno, "sysctl %s=%s in %s: %s" % (key, value, name, why))


def main():
    request = json.load(sys.stdin)
    parallel = max(1, int(request.get("parallel", 1)))
    pending = list(request["namespaces"])
    running = {}
    failures = []
    while pending or running:
        while pending and len(running) < parallel:
            ns = pending.pop(0)
            try:
                lines = ns.get("ip", "").splitlines()
                requests = [parse(line) for line in lines]
                if all(requests):
                    netlink_apply(ns["name"], requests, lines)
                    write_sysctls(ns["name"], ns.get("sysctls", []))
                    continue
                enter(ns["name"])
                child = subprocess.Popen(["ip", "-batch", "-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            except OSError as e:
                failures.append(str(e.strerror))
                continue
            running[child.pid] = (child, ns)
            try:
                child.stdin.write(ns["ip"].encode())
                child.stdin.close()
            except BrokenPipeError:
                pass  # ip stopped early: its exit status and stderr say why
        if not running:
            continue
        pid, status = os.wait()
        if pid not in running:
            continue
        child, ns = running.pop(pid)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
        child.returncode = code
        err = child.stderr.read().decode(errors="replace").strip()
        child.stderr.close()
        if code != 0:
            failures.append("%s: ip -batch exited %d: %s" % (ns["name"], code, err))
            continue
        try:
            write_sysctls(ns["name"], ns.get("sysctls", []))
        except OSError as e:
            failures.append(str(e.strerror))
    for f in failures:
        sys.stderr.write(f + "\n")
    sys.exit(1 if failures else 0)


main()

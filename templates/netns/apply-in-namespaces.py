"""One process that configures many network namespaces (run by src/providers/netns/apply.ts as python3 -c).

stdin: JSON {"parallel": n, "namespaces": [{"name": ..., "ip": "batch lines", "sysctls": [[key, value], ...]}]}.
For each namespace it enters /run/netns/<name> (setns, this thread only), starts `ip -batch -` there (the child
inherits the namespace: no `ip -n`, whose mount namespace and /sys remount cost ~3 ms a process), at most n at
once, and once that batch has succeeded writes the namespace's sysctls to /proc/sys, which always shows the
namespace of the thread that opens it (no sysctl process per value). Exit 1 and one line on stderr per failure.
"""
import ctypes
import json
import os
import subprocess
import sys

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def proc_path(key):
    """As sysctl(8) reads a key: one whose first separator is a slash is a path already; otherwise dots and slashes swap."""
    first = next((c for c in key if c in "./"), "/")
    return key if first == "/" else key.translate(str.maketrans("./", "/."))


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
            raise OSError(e.errno, "sysctl %s=%s in %s: %s" % (key, value, name, e.strerror))


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
                if not ns.get("ip"):
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

#!/usr/bin/env python3
"""Generic conntrack watcher (declared scenarios: `run: conntrack-watcher`).

Follows the node's conntrack events (`conntrack -E -o timestamp`), optionally only one protocol
and one original destination port, until --duration or SIGTERM.

Events: ready, new / update / destroy (at = the kernel's timestamp, entry = the event's line
without its header), error; summary (new, update, destroy, errors, timeline = first and last event).
"""
import argparse
import re
import subprocess
import threading
import time

from labagent import describe, emit, stop_event

LINE = re.compile(r"^\s*\[(\d+\.\d+)\]\s+\[(NEW|UPDATE|DESTROY)\]\s+(.*)$")


DECLARATION = {
    "kind": "conntrack-watcher",
    "semantics": "Follows the node's conntrack events (conntrack -E), optionally one protocol and one original destination port, until --duration or the end of the steps.",
    "counters": {
        "new": "new entries",
        "update": "updated entries",
        "destroy": "destroyed entries",
        "errors": "errors (a list; counted by its length)"
    },
    "events": {
        "ready": "watching",
        "new": "an entry created (at, entry)",
        "update": "an entry updated (at, entry)",
        "destroy": "an entry destroyed (at, entry)",
        "error": "conntrack failed"
    }
}


def main():
    describe(DECLARATION)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--proto", choices=["tcp", "udp", "icmp"])
    ap.add_argument("--port", type=int, help="original destination port (needs --proto tcp or udp)")
    ap.add_argument("--duration", type=float, default=60.0)
    args = ap.parse_args()
    stop = stop_event()
    argv = ["conntrack", "-E", "-o", "timestamp"]
    if args.proto:
        argv += ["-p", args.proto]
    if args.port:
        argv += ["--orig-port-dst", str(args.port)]
    st = {"new": 0, "update": 0, "destroy": 0, "errors": [], "first": None, "last": None}
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, bufsize=1)
    except OSError as e:
        emit("ready", watching=" ".join(argv))
        st["errors"].append(str(e))
        emit("error", error=str(e))
        emit("summary", new=0, update=0, destroy=0, errors=st["errors"], timeline={"firstEvent": None, "lastEvent": None})
        return

    def read():
        for line in proc.stdout:
            m = LINE.match(line)
            if not m:
                continue
            kind = m.group(2).lower()
            st[kind] += 1
            st["first"] = st["first"] or float(m.group(1))
            st["last"] = float(m.group(1))
            emit(kind, at=float(m.group(1)), entry=m.group(3).strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.3)  # conntrack subscribes to the netlink group as it starts; give it that moment
    if proc.poll() is not None:
        err = proc.stderr.read().strip()
        st["errors"].append(err or "conntrack -E exited")
        emit("error", error=st["errors"][-1])
    emit("ready", watching=" ".join(argv))
    deadline = time.time() + args.duration
    while not stop.is_set() and time.time() < deadline and proc.poll() is None:
        stop.wait(0.1)
    time.sleep(0.2)  # events already queued by the kernel
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
    reader.join(timeout=2)
    emit("summary", new=st["new"], update=st["update"], destroy=st["destroy"], errors=st["errors"],
         timeline={"firstEvent": st["first"], "lastEvent": st["last"]})


if __name__ == "__main__":
    main()

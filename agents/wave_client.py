#!/usr/bin/env python3
"""A wave of TCP connections that reuse fixed 5-tuples: each connection binds its own fixed source
port, connects, and exchanges a line every --ping-interval seconds for --hold seconds, then closes
with a RST (SO_LINGER 0) so no TIME_WAIT keeps the tuple from being reused by the next wave."""
import argparse
import errno
import signal
import socket
import struct
import threading
import time

from labagent import emit, errno_name, stop_event

lock = threading.Lock()


def ports(spec):
    out = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def run_one(args, port, results, stop):
    rec = {"sourcePort": port, "tuple": None, "connectedT": None, "ok": False, "error": None, "failedT": None, "echoes": 0}
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.settimeout(args.reply_timeout)
    try:
        s.bind((args.bind or "0.0.0.0", port))
        s.connect((args.server, args.port))
        local = s.getsockname()
        rec["tuple"] = "%s:%d>%s:%d" % (local[0], local[1], args.server, args.port)
        rec["connectedT"] = time.time()
        end = time.time() + args.hold
        while time.time() < end and not stop.is_set():
            s.sendall(b"ping\n")
            got = b""
            while not got.endswith(b"\n"):
                chunk = s.recv(64)
                if not chunk:
                    raise ConnectionAbortedError(errno.ECONNABORTED, "closed")
                got += chunk
            rec["echoes"] += 1
            time.sleep(args.ping_interval)
        rec["ok"] = True
    except socket.timeout:
        rec["error"], rec["failedT"] = "timeout", time.time()
    except OSError as e:
        rec["error"], rec["failedT"] = errno_name(e), time.time()
    finally:
        s.close()
    emit("connection", **rec)
    with lock:
        results.append(rec)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=9100)
    ap.add_argument("--bind", help="source address (default: any)")
    ap.add_argument("--source-ports", default="40000-40004", help="e.g. 40000-40004 or 40000,40002")
    ap.add_argument("--hold", type=float, default=2.0)
    ap.add_argument("--ping-interval", type=float, default=0.3)
    ap.add_argument("--reply-timeout", type=float, default=2.0)
    ap.add_argument("--label", default="wave")
    ap.add_argument("--wait-for-go", action="store_true",
                    help="after ready, connect only on SIGUSR1: started ahead, the wave connects without Python's start-up delay")
    args = ap.parse_args()
    stop = stop_event()
    go = threading.Event()
    signal.signal(signal.SIGUSR1, lambda signum, frame: go.set())
    emit("ready", label=args.label, server="%s:%d" % (args.server, args.port))
    if args.wait_for_go:
        while not go.wait(0.05):
            if stop.is_set():
                emit("summary", label=args.label, attempts=0, ok=0, failed=[], connections=[])
                return
        emit("go", label=args.label)
    results = []
    threads = [threading.Thread(target=run_one, args=(args, p, results, stop)) for p in ports(args.source_ports)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    results.sort(key=lambda r: r["sourcePort"])
    emit("summary", label=args.label, attempts=len(results), ok=sum(1 for r in results if r["ok"]), failed=[r for r in results if not r["ok"]], connections=results)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generic TCP flows (declared scenarios: `run: tcp-flows`).

Opens --flows connections to --to:--port, one every 1/--rate seconds, each from its own source
port (from --sport upwards when given); on each it sends one line "<payload> <flow>" and waits up
to --timeout for the echo, then keeps the connection open until --hold seconds after the last one
opened (so many flows live at once, as a conntrack table sees them), and closes them all. Each flow
is counted: connected, echoed, refused, reset, timed out.
Events: ready, flow (n, local, outcome, connectMs), summary.
"""
import argparse
import socket
import time

from labagent import describe, emit, errno_name, hostport, stop_event

DECLARATION = {
    "kind": "tcp-flows",
    "semantics": "Opens --flows TCP connections to --to:--port at --rate per second, each from its own source port (from --sport upwards when given), sends one line on each and waits up to --timeout for its echo, holds them all open until --hold seconds after the last one opened, then closes them. Every flow is counted by how it went.",
    "counters": {
        "flows": "connections attempted",
        "connected": "connections established",
        "echoed": "connections whose line came back",
        "refused": "connections refused (ECONNREFUSED)",
        "reset": "connections reset (ECONNRESET)",
        "timedOut": "connections or echoes that timed out",
        "failed": "connections that did not echo",
        "errors": "other socket errors (a list; counted by its length)",
    },
    "events": {"ready": "starting", "flow": "one flow's outcome (n, local, outcome, connectMs)"},
}


def main():
    describe(DECLARATION)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--to", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--flows", type=int, default=10)
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--hold", type=float, default=1.0)
    ap.add_argument("--sport", type=int, default=0)
    ap.add_argument("--payload", default="flow")
    args = ap.parse_args()
    stop = stop_event()
    counts = {"flows": 0, "connected": 0, "echoed": 0, "refused": 0, "reset": 0, "timedOut": 0, "failed": 0}
    errors = []
    open_socks = []
    emit("ready")
    start = time.time()
    for n in range(args.flows):
        if stop.is_set():
            break
        counts["flows"] += 1
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(args.timeout)
        local = None
        began = time.time()
        outcome = "echoed"
        try:
            if args.sport:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("0.0.0.0", args.sport + n))
            s.connect((args.to, args.port))
            counts["connected"] += 1
            local = hostport(s.getsockname())
            s.sendall(("%s %d\n" % (args.payload, n)).encode())
            data = b""
            while b"\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    raise ConnectionResetError(104, "closed by the server")
                data += chunk
            counts["echoed"] += 1
            open_socks.append(s)
        except socket.timeout:
            outcome = "timeout"
            counts["timedOut"] += 1
            s.close()
        except OSError as e:
            name = errno_name(e)
            outcome = {"ECONNREFUSED": "refused", "ECONNRESET": "reset"}.get(name, "error")
            if outcome in ("refused", "reset"):
                counts[outcome] += 1
            elif len(errors) < 20:
                errors.append(name)
            s.close()
        if outcome != "echoed":
            counts["failed"] += 1
        emit("flow", n=n, local=local, outcome=outcome, connectMs=round((time.time() - began) * 1000, 3))
        time.sleep(max(0.0, start + (n + 1) / args.rate - time.time()))
    end = time.time() + args.hold
    while time.time() < end and not stop.is_set():
        time.sleep(0.05)
    for s in open_socks:
        s.close()
    counts["errors"] = errors
    emit("summary", **counts)


if __name__ == "__main__":
    main()

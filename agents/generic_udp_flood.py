#!/usr/bin/env python3
"""Generic UDP flood (declared scenarios: `run: udp-flood`).

Sends datagrams of --size bytes to --to:--port at --rate per second in all, for --duration
seconds or --count datagrams, spread round-robin over --flows sockets (each its own source port,
from --sport upwards when given). Each datagram carries "<flow> <seq>" so a sink counts what
each flow lost. Counts per --interval seconds are kept per flow.
Events: ready (flows: their local addresses), interval (t, sent per flow);
summary (sent, flows, errors, perFlow {local: sent}, timeline [{t, sent}]).
"""
import argparse
import socket
import time

from labagent import describe, emit, errno_name, hostport, stop_event


DECLARATION = {
    "kind": "udp-flood",
    "semantics": "Sends datagrams of --size bytes to --to:--port at --rate per second in all, for --duration seconds or --count datagrams, round-robin over --flows sockets (each its own source port, from --sport upwards when given). Each datagram carries \"<flow> <seq>\" so a udp-sink counts what each flow lost.",
    "counters": {
        "sent": "datagrams sent",
        "flows": "flows (sockets) used",
        "errors": "send errors (a list, the first 20; counted by its length)"
    },
    "events": {
        "ready": "its flows' local addresses",
        "interval": "datagrams sent per flow in an interval (t, sent)"
    }
}


def main():
    describe(DECLARATION)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--to", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--count", type=int, default=0, help="0: as many as --duration allows")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--flows", type=int, default=1)
    ap.add_argument("--sport", type=int, default=0)
    ap.add_argument("--interval", type=float, default=0.5)
    args = ap.parse_args()
    stop = stop_event()
    socks = []
    for i in range(args.flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", args.sport + i if args.sport else 0))
        s.connect((args.to, args.port))
        socks.append(s)
    locals_ = [hostport(s.getsockname()) for s in socks]
    emit("ready", flows=locals_)
    per_flow = [0] * args.flows
    errors = []
    timeline = []
    start = time.time()
    bucket_start, bucket = start, [0] * args.flows
    seq = 0
    while not stop.is_set() and time.time() - start < args.duration and (not args.count or seq < args.count):
        flow = seq % args.flows
        payload = ("%d %d " % (flow, seq // args.flows)).encode()
        try:
            socks[flow].send(payload.ljust(max(args.size, len(payload)), b"."))
            per_flow[flow] += 1
            bucket[flow] += 1
        except OSError as e:
            if len(errors) < 20:
                errors.append(errno_name(e))
        seq += 1
        now = time.time()
        if now - bucket_start >= args.interval:
            timeline.append({"t": round(bucket_start - start, 3), "sent": sum(bucket)})
            emit("interval", t=round(bucket_start - start, 3), sent=dict(zip(locals_, bucket)))
            bucket_start, bucket = now, [0] * args.flows
        time.sleep(max(0.0, start + seq / args.rate - time.time()))
    timeline.append({"t": round(bucket_start - start, 3), "sent": sum(bucket)})
    for s in socks:
        s.close()
    emit("summary", sent=sum(per_flow), flows=args.flows, errors=errors, perFlow=dict(zip(locals_, per_flow)), timeline=timeline)


if __name__ == "__main__":
    main()

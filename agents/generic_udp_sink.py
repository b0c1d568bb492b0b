#!/usr/bin/env python3
"""Generic UDP sink (declared scenarios: `run: udp-sink`).

Receives datagrams on --bind:--port for --duration seconds and counts them per --interval
seconds, per source address and per destination address (IP_PKTINFO), without answering.
Datagrams from udp-flood carry "<flow> <seq>": the sink also counts, per source, the sequence
numbers it never saw below the highest one it saw (lost) and those it saw twice (duplicates).
Events: ready (port), first (source: the first datagram of each source), interval (t, counts
{"src -> dst": n});
summary (received, sources, lost, duplicates, perSource {src: n}, timeline [{t, received, bySource}]).
"""
import argparse
import socket
import struct
import time

from labagent import describe, emit, stop_event

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)


DECLARATION = {
    "kind": "udp-sink",
    "semantics": "Receives datagrams on --bind:--port for --duration seconds, never answering, and counts them per --interval, per source and per destination address (IP_PKTINFO). For udp-flood's datagrams it also counts, per source, sequence numbers never seen below the highest one seen (lost) and those seen twice (duplicates).",
    "counters": {
        "received": "datagrams received",
        "sources": "distinct sources (address:port)",
        "lost": "datagrams missing below each source's highest sequence number",
        "duplicates": "datagrams seen twice"
    },
    "events": {
        "ready": "listening (port)",
        "first": "the first datagram of a source",
        "interval": "counts in an interval by \"source -> destination\""
    }
}


def main():
    describe(DECLARATION)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--interval", type=float, default=0.5)
    args = ap.parse_args()
    stop = stop_event()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    sock.bind((args.bind, args.port))
    sock.settimeout(min(0.2, args.interval))
    emit("ready", port=args.port)
    per_source, seen, timeline = {}, {}, []
    duplicates = 0
    start = time.time()
    bucket_start, bucket = start, {}
    while not stop.is_set() and time.time() - start < args.duration:
        try:
            data, anc, _flags, src = sock.recvmsg(65535, socket.CMSG_SPACE(12))
        except socket.timeout:
            data = None
        now = time.time()
        if data is not None:
            dst = args.bind
            for level, kind, value in anc:
                if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(value) >= 12:
                    dst = socket.inet_ntoa(struct.unpack("i4s4s", value[:12])[2])
            source = "%s:%d" % src
            if source not in per_source:
                emit("first", source=source)
            per_source[source] = per_source.get(source, 0) + 1
            key = "%s -> %s" % (source, dst)
            bucket[key] = bucket.get(key, 0) + 1
            words = data.split(b" ", 2)
            if len(words) >= 2 and words[1].isdigit():
                numbers = seen.setdefault(source, set())
                n = int(words[1])
                duplicates += n in numbers
                numbers.add(n)
        if now - bucket_start >= args.interval:
            timeline.append({"t": round(bucket_start - start, 3), "received": sum(bucket.values()), "bySource": bucket})
            emit("interval", t=round(bucket_start - start, 3), counts=bucket)
            bucket_start, bucket = now, {}
    timeline.append({"t": round(bucket_start - start, 3), "received": sum(bucket.values()), "bySource": bucket})
    lost = sum(max(n) + 1 - len(n) for n in seen.values() if n)
    emit("summary", received=sum(per_source.values()), sources=sorted(per_source), lost=lost, duplicates=duplicates,
         perSource=per_source, timeline=timeline)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Packet capture to a pcap file with an AF_PACKET socket, for where tcpdump cannot run (a rootless
lab: tcpdump insists on dropping privileges, which a user namespace without setgroups refuses).
Captures every packet of --iface (filter when reading, e.g. with tcpdump -r FILE FILTER), keeps the
first --snaplen bytes, flushes each packet, and stops cleanly on SIGINT/SIGTERM or --duration."""
import argparse
import socket
import struct
import sys
import time

from labagent import stop_event

ETH_P_ALL = 0x0003


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--iface", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--snaplen", type=int, default=256)
    ap.add_argument("--duration", type=float, default=600.0)
    args = ap.parse_args()
    stop = stop_event()
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((args.iface, 0))
    sock.settimeout(0.2)
    count = 0
    with open(args.out, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, args.snaplen, 1))
        out.flush()
        # tcpdump's words, so the same readiness check works for both.
        sys.stderr.write("listening on %s, link-type EN10MB (Ethernet), snapshot length %d bytes\n" % (args.iface, args.snaplen))
        sys.stderr.flush()
        started = time.time()
        while not stop.is_set() and time.time() - started < args.duration:
            try:
                data = sock.recv(65535)
            except socket.timeout:
                continue
            except InterruptedError:
                continue
            now = time.time()
            kept = data[: args.snaplen]
            out.write(struct.pack("<IIII", int(now), int((now % 1) * 1e6), len(kept), len(data)) + kept)
            out.flush()
            count += 1
    sys.stderr.write("%d packets captured\n0 packets dropped by kernel\n" % count)
    sys.stderr.flush()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Container app for docker-desktop-udp: bind UDP on --udp-port, connect TCP to the host-side server,
count the UDP datagrams received for --run-seconds, then close the sockets in the chosen order:
proper (TCP first, then UDP) or buggy (UDP first, then TCP)."""
import argparse
import select
import socket
import time

from labagent import emit, errno_name, stop_event


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--server", required=True)
    ap.add_argument("--tcp-port", type=int, default=11002)
    ap.add_argument("--udp-port", type=int, default=54603)
    ap.add_argument("--run-seconds", type=float, default=3.0)
    ap.add_argument("--close-order", choices=["proper", "buggy"], required=True)
    ap.add_argument("--gap", type=float, default=0.5, help="seconds between closing the first and the second socket")
    ap.add_argument("--label", default="")
    args = ap.parse_args()
    stop = stop_event()

    errors = []
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind(("0.0.0.0", args.udp_port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.settimeout(5)
    connected = False
    try:
        tcp.connect((args.server, args.tcp_port))
        tcp.sendall(("LABEL %s\n" % args.label).encode())
        connected = True
    except OSError as e:
        errors.append("tcp connect: " + errno_name(e))
    emit("ready", label=args.label, closeOrder=args.close_order, tcpConnected=connected)

    received, first, last, sources = 0, None, None, set()
    started = time.time()
    while not stop.is_set() and time.time() - started < args.run_seconds:
        readable, _, _ = select.select([udp], [], [], 0.1)
        if readable:
            _data, peer = udp.recvfrom(65535)
            received += 1
            sources.add(peer[0])
            first = first or time.time()
            last = time.time()
    order = ["tcp", "udp"] if args.close_order == "proper" else ["udp", "tcp"]
    for i, name in enumerate(order):
        (tcp if name == "tcp" else udp).close()
        emit("closed", socket=name)
        if i == 0:
            time.sleep(args.gap)
    emit("summary", label=args.label, closeOrder=args.close_order, closed=order, tcpConnected=connected, udpReceived=received,
         udpSources=sorted(sources), firstUdpT=first, lastUdpT=last, errors=errors)


if __name__ == "__main__":
    main()

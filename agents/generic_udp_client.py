#!/usr/bin/env python3
"""Generic UDP client (declared scenarios: `run: udp-client`).

Sends --count datagrams "<payload> <seq>" to --to:--port at --rate per second and counts echoes,
waiting up to --timeout after the last. --connected uses connect() (the kernel then drops replies
from any other source address and answers them with ICMP port unreachable); --sport pins the
source port (so every datagram belongs to one conntrack entry).

Events: ready (local), send (seq), reply (seq, source, rttMs), socket_error (error); summary (sent,
received, late = echoes of a datagram already answered or unknown, errors, replySources,
timeline = first send, last send, last reply).
"""
import argparse
import select
import socket
import time

from labagent import describe, emit, errno_name, hostport, stop_event


DECLARATION = {
    "kind": "udp-client",
    "semantics": "Sends --count datagrams \"<payload> <seq>\" to --to:--port at --rate per second, without waiting for each echo, and counts the echoes, waiting up to --timeout after the last. --connected uses connect(), so the kernel drops replies from any other source address and answers them with ICMP port unreachable; --sport pins the source port (one conntrack entry for every datagram).",
    "counters": {
        "sent": "datagrams sent",
        "received": "echoes received",
        "late": "echoes of a datagram already answered, or unknown",
        "errors": "socket errors (a list; counted by its length)",
        "replySources": "distinct source addresses echoes came from"
    },
    "events": {
        "ready": "its socket is open (local, to, connected)",
        "send": "a datagram sent (seq)",
        "reply": "an echo (seq, source, rttMs)",
        "socket_error": "a socket error (seq, error)"
    }
}


def main():
    describe(DECLARATION)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--to", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--connected", action="store_true")
    ap.add_argument("--sport", type=int, default=0)
    ap.add_argument("--payload", default="seq")
    args = ap.parse_args()
    stop = stop_event()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", args.sport))
    if args.connected:
        sock.connect((args.to, args.port))
    sock.setblocking(False)
    emit("ready", local=hostport(sock.getsockname()), to="%s:%d" % (args.to, args.port), connected=args.connected)
    st = {"sent": 0, "received": 0, "late": 0, "errors": [], "sources": set(), "got": set(), "sentAt": {}, "lastReply": None}

    def receive(until):
        while not stop.is_set():
            left = until - time.time()
            if left <= 0:
                return
            ready, _, _ = select.select([sock], [], [], min(0.1, left))
            if not ready:
                continue
            try:
                data, src = sock.recvfrom(65535)
            except BlockingIOError:
                continue
            except OSError as e:  # ECONNREFUSED: an ICMP error reached the connected socket
                st["errors"].append(errno_name(e))
                emit("socket_error", error=errno_name(e))
                continue
            try:
                seq = int(data.decode("ascii", "replace").rsplit(" ", 1)[1])
            except (IndexError, ValueError):
                seq = None
            if seq is None or seq in st["got"] or seq not in st["sentAt"]:
                st["late"] += 1
                continue
            st["got"].add(seq)
            st["received"] += 1
            st["sources"].add(src[0])
            st["lastReply"] = time.time()
            emit("reply", seq=seq, source=src[0], rttMs=round((time.time() - st["sentAt"][seq]) * 1000, 3))

    first = None
    for seq in range(args.count):
        if stop.is_set():
            break
        message = ("%s %d" % (args.payload, seq)).encode()
        try:
            if args.connected:
                sock.send(message)
            else:
                sock.sendto(message, (args.to, args.port))
            st["sentAt"][seq] = time.time()
            first = first or st["sentAt"][seq]
            st["sent"] += 1
            emit("send", seq=seq)
        except OSError as e:
            st["errors"].append(errno_name(e))
            emit("socket_error", seq=seq, error=errno_name(e))
        receive(time.time() + 1.0 / args.rate)
    receive(time.time() + args.timeout)
    sock.close()
    emit("summary", sent=st["sent"], received=st["received"], late=st["late"], errors=st["errors"],
         replySources=sorted(st["sources"]),
         timeline={"firstSend": first, "lastSend": max(st["sentAt"].values()) if st["sentAt"] else None, "lastReply": st["lastReply"]})


if __name__ == "__main__":
    main()

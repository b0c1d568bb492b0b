#!/usr/bin/env python3
"""Generic UDP echo server (declared scenarios: `run: udp-server`).

--bind 0.0.0.0 or one address; --reply recvfrom (plain recvfrom/sendto: the kernel picks the
reply's source by route), pktinfo (IP_PKTINFO: the reply leaves from the address the request was
sent to), none (count requests, never answer). Serves until --duration or SIGTERM.

Events: ready (bound), request (peer, local when known, bytes), reply (to, source when fixed),
error; summary (received, sent, errors, peers, localAddresses, replySources, timeline = first and
last request times).
"""
import argparse
import select
import socket
import struct
import time

from labagent import describe, emit, errno_name, hostport, stop_event

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
IN_PKTINFO = struct.Struct("=i4s4s")


DECLARATION = {
    "kind": "udp-server",
    "semantics": "A UDP echo server on --bind:--port. --reply recvfrom answers with plain sendto (the kernel picks the reply's source address by route), pktinfo answers from the address the request was sent to (IP_PKTINFO, as dnsmasq does), none counts requests and never answers. Serves until --duration or the end of the steps.",
    "counters": {
        "received": "requests received",
        "sent": "replies sent",
        "errors": "socket errors (a list; counted by its length)",
        "peers": "distinct client addresses",
        "localAddresses": "distinct addresses requests were sent to (pktinfo)",
        "replySources": "distinct source addresses replies left from"
    },
    "events": {
        "ready": "listening (bound)",
        "request": "a request (peer, local, bytes)",
        "reply": "a reply sent (to, source)",
        "error": "a socket error (where, error)"
    }
}


def main():
    describe(DECLARATION)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--reply", choices=["recvfrom", "pktinfo", "none"], default="recvfrom")
    ap.add_argument("--duration", type=float, default=60.0)
    args = ap.parse_args()
    stop = stop_event()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.reply == "pktinfo":
        sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    sock.bind((args.bind, args.port))
    sock.setblocking(False)
    st = {"received": 0, "sent": 0, "errors": [], "peers": set(), "locals": set(), "sources": set(), "first": None, "last": None}
    emit("ready", bound=hostport(sock.getsockname()), reply=args.reply)

    deadline = time.time() + args.duration
    while not stop.is_set() and time.time() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.2)
        if not ready:
            continue
        try:
            if args.reply == "pktinfo":
                data, anc, _flags, peer = sock.recvmsg(65535, socket.CMSG_SPACE(IN_PKTINFO.size))
            else:
                data, peer = sock.recvfrom(65535)
                anc = []
        except BlockingIOError:
            continue
        except OSError as e:
            st["errors"].append(errno_name(e))
            emit("error", where="receive", error=errno_name(e))
            continue
        now = time.time()
        st["received"] += 1
        st["first"] = st["first"] or now
        st["last"] = now
        st["peers"].add(hostport(peer))
        local = None
        for level, kind, payload in anc:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(payload) >= IN_PKTINFO.size:
                _ifindex, spec, _addr = IN_PKTINFO.unpack(payload[: IN_PKTINFO.size])
                local = socket.inet_ntoa(spec)
        if args.bind != "0.0.0.0":
            local = args.bind
        if local:
            st["locals"].add(local)
        emit("request", peer=hostport(peer), local=local, bytes=len(data))
        if args.reply == "none":
            continue
        try:
            if args.reply == "pktinfo" and local:
                cmsg = IN_PKTINFO.pack(0, socket.inet_aton(local), socket.inet_aton("0.0.0.0"))
                sock.sendmsg([data], [(socket.IPPROTO_IP, IP_PKTINFO, cmsg)], 0, peer)
            else:
                sock.sendto(data, peer)
        except OSError as e:
            st["errors"].append(errno_name(e))
            emit("error", where="reply", error=errno_name(e))
            continue
        st["sent"] += 1
        if local:
            st["sources"].add(local)
        emit("reply", to=hostport(peer), source=local)
    sock.close()
    emit("summary", received=st["received"], sent=st["sent"], errors=st["errors"], peers=sorted(st["peers"]),
         localAddresses=sorted(st["locals"]), replySources=sorted(st["sources"]),
         timeline={"firstRequest": st["first"], "lastRequest": st["last"]})


if __name__ == "__main__":
    main()

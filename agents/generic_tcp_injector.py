#!/usr/bin/env python3
"""Generic raw TCP segment injector (declared scenarios: `run: tcp-injector`).

Runs on one end of a live TCP connection whose local port is --port. It follows the segments
this node receives on that port (a raw socket), and --after seconds after the first one it sends
--count forged segments to the peer (with --after-bytes, only once the peer has also acknowledged that
many bytes), as if from the local socket: seq = the peer's last
acknowledgement (our next sequence number) + --offset, ack = the peer's next sequence number,
flags ACK (+PSH with payload), --length bytes of payload. Needs CAP_NET_RAW.

Events: ready, connection (peer, local), injected (seq, ack, offset, length, sentAt), error;
summary (seen = segments received on the port, injected, errors, connection, timeline).
"""
import argparse
import socket
import time

from labagent import describe, emit, errno_name, stop_event
from rawtcp import ACK, PSH, build_segment, parse, sender, sniffer


DECLARATION = {
    "kind": "tcp-injector",
    "semantics": "Runs on one end of a live TCP connection whose local port is --port. It follows the segments this node receives on that port (a raw socket) and, --after seconds after the first one and once the peer has acknowledged --after-bytes, sends --count forged segments to the peer as if from the local socket: seq = the peer's last acknowledgement + --offset (negative: behind it), ack = the peer's next sequence number, --length bytes of payload. Needs CAP_NET_RAW.",
    "counters": {
        "seen": "segments received on the port",
        "injected": "segments forged and sent",
        "errors": "send errors (a list; counted by its length)"
    },
    "events": {
        "ready": "following the port",
        "connection": "the connection it follows (peer, local)",
        "injected": "a forged segment (seq, ack, offset, length, acked, sentAt); its time is the moment before the send",
        "error": "a send error"
    }
}


def main():
    describe(DECLARATION)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True, help="the local port of the live connection")
    ap.add_argument("--after", type=float, default=1.0, help="seconds after the first segment seen")
    ap.add_argument("--after-bytes", type=int, default=0,
                    help="also wait until the peer has acknowledged this many bytes (a download's progress, whatever the speed)")
    ap.add_argument("--offset", type=int, default=100000, help="added to our next sequence number (negative: behind it)")
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--duration", type=float, default=60.0)
    args = ap.parse_args()
    stop = stop_event()
    rx, tx = sniffer(0.1), sender()
    st = {"seen": 0, "injected": 0, "errors": [], "first": None, "firstAck": None, "acked": 0, "sentAt": []}
    last = None
    emit("ready", port=args.port)
    deadline = time.time() + args.duration
    while not stop.is_set() and time.time() < deadline:
        try:
            packet = rx.recv(65535)
            src, dst, sport, dport, seq, ack, flags, _win, plen = parse(packet)
            if dport == args.port:
                if last is None or (src, sport) != (last[0], last[2]):
                    emit("connection", peer="%s:%d" % (src, sport), local="%s:%d" % (dst, dport))
                st["seen"] += 1
                st["first"] = st["first"] or time.time()
                if flags & ACK:
                    st["firstAck"] = ack if st["firstAck"] is None else st["firstAck"]
                    st["acked"] = (ack - st["firstAck"]) % 2**32
                last = (src, dst, sport, dport, seq, ack, flags, plen)
        except socket.timeout:
            pass
        due = last and time.time() >= st["first"] + args.after and st["acked"] >= args.after_bytes
        if due and st["injected"] < args.count:
            src, dst, sport, dport, seq, ack, flags, plen = last
            if not flags & ACK:
                continue
            our_seq = (ack + args.offset) % 2**32
            their_next = (seq + plen) % 2**32
            payload = b"x" * args.length
            # Taken before the send: the segment is on no wire earlier (under QEMU/TCG sendto returns after the
            # segment has crossed the lab's veths, 10 ms and more), so a rule counting packets from this event sees it.
            at = time.time()
            try:
                tx.sendto(build_segment(dst, src, dport, sport, our_seq, their_next, ACK | (PSH if payload else 0), payload), (src, 0))
            except OSError as e:
                st["errors"].append(errno_name(e))
                emit("error", error=errno_name(e))
                break
            st["injected"] += 1
            st["sentAt"].append(at)
            emit("injected", t=at, seq=our_seq, ack=their_next, offset=args.offset, length=args.length, acked=st["acked"], sentAt=at)
    emit("summary", seen=st["seen"], injected=st["injected"], errors=st["errors"],
         connection=None if not last else {"peer": "%s:%d" % (last[0], last[2]), "local": "%s:%d" % (last[1], last[3])},
         timeline={"firstSegment": st["first"], "injectedAt": st["sentAt"]})


if __name__ == "__main__":
    main()

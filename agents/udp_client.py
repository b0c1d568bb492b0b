#!/usr/bin/env python3
"""Client for moby-15127, run in the container.

udp: a CONNECTED UDP socket (connect() to --server:--port, as most UDP clients use) sends --count
datagrams "seq N" and waits up to --timeout for each echo. A connected socket only accepts
datagrams from the connected peer: a reply from another source address is dropped by the kernel
(which answers it with ICMP port unreachable) and never reaches the application. An ICMP error
that reaches the socket shows up as ECONNREFUSED on the next call; those are counted.
tcp: one TCP connection, --count lines, each echo read back.

Events (JSON lines on stdout): ready (local, server, proto), reply (seq, source = the from address
recvfrom returned, bytes, rttMs), no_reply (seq), socket_error (seq, error), summary (sent, received,
replySources = distinct reply source addresses, errors = errno names seen, econnrefused = their
ECONNREFUSED count, late = echoes that arrived after their own timeout)."""
import argparse
import errno
import select
import socket
import time

from labagent import emit, errno_name, hostport, stop_event


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="address the client writes to (the host's uplink address)")
    ap.add_argument("--port", type=int, default=56789)
    ap.add_argument("--count", type=int, default=5, help="messages to send")
    ap.add_argument("--interval", type=float, default=0.2, help="seconds between messages")
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for each reply (and for the TCP connect)")
    ap.add_argument("--proto", choices=["udp", "tcp"], default="udp")
    args = ap.parse_args()

    stop = stop_event()

    st = {"sent": 0, "received": 0, "late": 0, "sources": [], "errors": [], "got": set()}
    server = "%s:%d" % (args.server, args.port)

    def summary(local):
        emit(
            "summary",
            proto=args.proto,
            local=local,
            server=server,
            sent=st["sent"],
            received=st["received"],
            late=st["late"],
            replySources=sorted(set(st["sources"])),
            errors=st["errors"],
            econnrefused=st["errors"].count("ECONNREFUSED"),
        )

    def note_error(seq, e):
        name = errno_name(e)
        st["errors"].append(name)
        emit("socket_error", seq=seq, error=name)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if args.proto == "udp" else socket.SOCK_STREAM)
    sock.settimeout(args.timeout)
    try:
        sock.connect((args.server, args.port))
    except (OSError, socket.timeout) as e:
        emit("ready", local=None, server=server, proto=args.proto)
        note_error(None, e)
        summary(None)
        return
    local = hostport(sock.getsockname())
    emit("ready", local=local, server=server, proto=args.proto)
    sock.setblocking(False)
    pending = b""  # tcp: bytes of an unfinished echoed line
    sent_at = {}
    current = {"seq": 0}

    def take_reply(data, src):
        """Record an echo; returns its sequence number (or None if unparsable)."""
        try:
            seq = int(data.decode("ascii", "replace").split()[1])
        except (IndexError, ValueError):
            seq = None
        if seq is not None and seq in st["got"]:
            return None  # a duplicate echo
        if seq is not None:
            st["got"].add(seq)
        st["received"] += 1
        st["sources"].append(src)
        rtt = round((time.time() - sent_at[seq]) * 1000, 3) if seq in sent_at else None
        emit("reply", seq=seq, source=src, bytes=len(data), rttMs=rtt)
        if seq is not None and seq < current["seq"]:
            st["late"] += 1  # the echo of an earlier message, after its own timeout
        return seq

    for i in range(args.count):
        if stop.is_set() or (args.proto == "tcp" and st["errors"]):
            break
        current["seq"] = i
        message = ("seq %d\n" % i).encode()
        sent_at[i] = time.time()
        try:
            if args.proto == "udp":
                sock.send(message)
            else:
                sock.setblocking(True)
                sock.settimeout(args.timeout)
                sock.sendall(message)
                sock.setblocking(False)
        except (OSError, socket.timeout) as e:
            note_error(i, e)
            continue
        st["sent"] += 1
        deadline = time.time() + args.timeout
        answered = False
        while not answered and not stop.is_set():
            left = deadline - time.time()
            if left <= 0:
                break
            try:
                ready, _, _ = select.select([sock], [], [], min(0.2, left))
            except InterruptedError:
                continue
            if not ready:
                continue
            try:
                if args.proto == "udp":
                    data, src = sock.recvfrom(65535)
                    answered = take_reply(data, src[0]) == i
                else:
                    data = sock.recv(65535)
                    if not data:
                        note_error(i, OSError(errno.ECONNRESET, "connection closed by the server"))
                        break
                    pending += data
                    while b"\n" in pending:
                        line, pending = pending.split(b"\n", 1)
                        seq = take_reply(line + b"\n", sock.getpeername()[0])
                        answered = answered or seq == i
            except BlockingIOError:
                continue
            except OSError as e:  # ECONNREFUSED: an ICMP error reached the connected socket
                note_error(i, e)
                if args.proto == "tcp":
                    break
        if not answered and not stop.is_set():
            emit("no_reply", seq=i)
        if i < args.count - 1 and not stop.is_set():
            end = time.time() + args.interval
            while not stop.is_set() and time.time() < end:
                time.sleep(min(0.05, max(0.0, end - time.time())))
    sock.close()
    summary(local)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generic TCP line-echo server (declared scenarios: `run: tcp-server`).

Listens on --bind:--port and echoes every line back until --duration or SIGTERM.
Events: ready, accepted (peer, local), request (peer, bytes), reply (to, source), error;
summary (accepted, received = lines, sent = lines echoed, errors, peers, timeline).
"""
import argparse
import select
import socket
import time

from labagent import describe, emit, errno_name, hostport, stop_event


DECLARATION = {
    "kind": "tcp-server",
    "semantics": "A TCP line-echo server on --bind:--port: echoes every line back on every connection until --duration or the end of the steps.",
    "counters": {
        "accepted": "connections accepted",
        "received": "lines received",
        "sent": "lines echoed",
        "errors": "socket errors (a list; counted by its length)",
        "peers": "distinct client addresses"
    },
    "events": {
        "ready": "listening (bound)",
        "accepted": "a connection (peer, local)",
        "request": "a line (peer, bytes)",
        "reply": "a line echoed (to, source)",
        "error": "a socket error (where, error)"
    }
}


def main():
    describe(DECLARATION)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--duration", type=float, default=60.0)
    args = ap.parse_args()
    stop = stop_event()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.bind, args.port))
    listener.listen(64)
    listener.setblocking(False)
    emit("ready", bound=hostport(listener.getsockname()))
    st = {"accepted": 0, "received": 0, "sent": 0, "errors": [], "peers": set(), "first": None, "last": None}
    conns = {}
    deadline = time.time() + args.duration
    while not stop.is_set() and time.time() < deadline:
        readable, _, _ = select.select([listener] + list(conns), [], [], 0.2)
        for r in readable:
            if r is listener:
                try:
                    conn, peer = listener.accept()
                except OSError:
                    continue
                conn.settimeout(1.0)
                conns[conn] = b""
                st["accepted"] += 1
                st["peers"].add(hostport(peer))
                emit("accepted", peer=hostport(peer), local=hostport(conn.getsockname()))
                continue
            try:
                data = r.recv(65535)
            except OSError as e:
                st["errors"].append(errno_name(e))
                emit("error", where="recv", error=errno_name(e))
                data = b""
            if not data:
                conns.pop(r, None)
                r.close()
                continue
            buf = conns[r] + data
            peer, local = r.getpeername(), r.getsockname()[0]
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                now = time.time()
                st["received"] += 1
                st["first"] = st["first"] or now
                st["last"] = now
                emit("request", peer=hostport(peer), bytes=len(line) + 1)
                try:
                    r.sendall(line + b"\n")
                except OSError as e:
                    st["errors"].append(errno_name(e))
                    emit("error", where="send", error=errno_name(e))
                    continue
                st["sent"] += 1
                emit("reply", to=hostport(peer), source=local)
            conns[r] = buf
    for c in conns:
        c.close()
    listener.close()
    emit("summary", accepted=st["accepted"], received=st["received"], sent=st["sent"], errors=st["errors"],
         peers=sorted(st["peers"]), timeline={"firstRequest": st["first"], "lastRequest": st["last"]})


if __name__ == "__main__":
    main()

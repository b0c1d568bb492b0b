#!/usr/bin/env python3
"""Generic TCP client (declared scenarios: `run: tcp-client`).

One connection to --to:--port; sends --count lines "<payload> <seq>" at --rate per second and
waits up to --timeout for each echo.
Events: ready (local), send (seq), reply (seq, source, rttMs), no_reply (seq), socket_error;
summary (connected, sent, received, errors, replySources, timeline).
"""
import argparse
import socket
import time

from labagent import describe, emit, errno_name, hostport, stop_event


DECLARATION = {
    "kind": "tcp-client",
    "semantics": "One connection to --to:--port; sends --count lines \"<payload> <seq>\" at --rate per second and waits up to --timeout for each echo before sending the next (unlike udp-client). A connection reset ends it.",
    "counters": {
        "sent": "lines sent",
        "received": "echoes received",
        "errors": "socket errors (a list; counted by its length)",
        "replySources": "distinct addresses echoes came from"
    },
    "events": {
        "ready": "connected, or not (local)",
        "send": "a line sent (seq)",
        "reply": "an echo (seq, source, rttMs)",
        "no_reply": "no echo within --timeout (seq)",
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
    ap.add_argument("--payload", default="seq")
    args = ap.parse_args()
    stop = stop_event()
    st = {"sent": 0, "received": 0, "errors": [], "sources": set(), "first": None, "lastReply": None}

    def summary(connected):
        emit("summary", connected=connected, sent=st["sent"], received=st["received"], errors=st["errors"],
             replySources=sorted(st["sources"]), timeline={"firstSend": st["first"], "lastReply": st["lastReply"]})

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(args.timeout)
    try:
        sock.connect((args.to, args.port))
    except (OSError, socket.timeout) as e:
        emit("ready", local=None)
        st["errors"].append(errno_name(e))
        emit("socket_error", error=errno_name(e))
        summary(False)
        return
    emit("ready", local=hostport(sock.getsockname()))
    peer = sock.getpeername()[0]
    pending = b""
    for seq in range(args.count):
        if stop.is_set():
            break
        started = time.time()
        st["first"] = st["first"] or started
        try:
            sock.sendall(("%s %d\n" % (args.payload, seq)).encode())
            st["sent"] += 1
            emit("send", seq=seq)
            while b"\n" not in pending:
                data = sock.recv(65535)
                if not data:
                    raise ConnectionResetError(104, "closed by the server")
                pending += data
            line, pending = pending.split(b"\n", 1)
            st["received"] += 1
            st["sources"].add(peer)
            st["lastReply"] = time.time()
            emit("reply", seq=seq, source=peer, rttMs=round((time.time() - started) * 1000, 3))
        except socket.timeout:
            emit("no_reply", seq=seq)
        except OSError as e:
            st["errors"].append(errno_name(e))
            emit("socket_error", seq=seq, error=errno_name(e))
            break
        time.sleep(max(0.0, 1.0 / args.rate - (time.time() - started)))
    sock.close()
    summary(True)


if __name__ == "__main__":
    main()

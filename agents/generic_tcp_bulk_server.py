#!/usr/bin/env python3
"""Generic bulk TCP server (declared scenarios: `run: tcp-bulk-server`).

Listens on --bind:--port. With --mode send (a download, the default) it writes --bytes bytes of a
stream derived from --seed to each connection, then closes its side and waits for the client's;
with --mode receive (an upload) it reads --bytes bytes and checks each one (see bulkdata.py).
Serves --connections connections, one after another, or until --duration ends.
Events: ready (port), accepted (peer), progress (bytes, bps; receive mode), done (peer, outcome);
summary (connections, sent, bytes, completed, reset, stalled, failed, errors, and in receive mode
the receiver's outcome, sha256, firstMismatchAt, longestGapMs, throughputBps, timeline).
"""
import argparse
import socket
import time

from bulkdata import Receiver, pattern, send_stream, sent_outcome
from labagent import describe, emit, errno_name, hostport, stop_event


DECLARATION = {
    "kind": "tcp-bulk-server",
    "semantics": "Listens on --bind:--port. With --mode send (a download, the default) it writes --bytes bytes of a stream derived from --seed to each connection, then closes its side and waits for the client's; with --mode receive (an upload) it reads --bytes bytes and checks each one. Serves --connections connections, one after another, or until --duration ends.",
    "counters": {
        "connections": "connections served",
        "sent": "bytes written (send mode)",
        "completed": "connections that completed",
        "reset": "connections reset (ECONNRESET)",
        "stalled": "connections stalled (receive mode)",
        "failed": "connections that did not complete",
        "errors": "socket errors (a list; counted by its length)",
        "bytes": "bytes received (receive mode; 0 when sending)",
        "expectedBytes": "bytes a transfer holds (receive mode)",
        "longestGapMs": "the longest wait for data (receive mode; 0 when sending)",
        "throughputBps": "bits per second sent (send mode) or received (receive mode)"
    },
    "events": {
        "ready": "listening (port)",
        "accepted": "a connection (peer)",
        "progress": "bytes received so far and the interval's rate (receive mode)",
        "done": "a connection ended (peer, outcome)"
    }
}


def main():
    describe(DECLARATION)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--mode", choices=["send", "receive"], default="send")
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--seed", default="lab")
    ap.add_argument("--chunk", type=int, default=65536)
    ap.add_argument("--stall", type=float, default=5.0)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--duration", type=float, default=60.0)
    args = ap.parse_args()
    stop = stop_event()
    buf = pattern(args.seed)
    st = {"connections": 0, "sent": 0, "errors": [], "outcomes": [], "received": None, "started": time.time()}

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.bind, args.port))
    listener.listen(4)
    listener.settimeout(0.2)
    emit("ready", port=args.port)
    end = time.time() + args.duration
    while st["connections"] < args.connections and time.time() < end and not stop.is_set():
        try:
            conn, peer = listener.accept()
        except socket.timeout:
            continue
        st["connections"] += 1
        emit("accepted", peer=hostport(peer))
        if args.mode == "send":
            sent, error = send_stream(conn, buf, args.bytes, args.chunk, stop)
            st["sent"] += sent
            outcome = sent_outcome(sent, args.bytes, error)
            if error:
                st["errors"].append(error)
            else:
                outcome = finish(conn, args.stall, st)
        else:
            rx = Receiver(buf, args.bytes, args.stall, args.interval)
            rx.run(conn, stop)
            st["received"] = rx.summary()
            outcome = rx.outcome
            if rx.error:
                st["errors"].append(rx.error)
        st["outcomes"].append(outcome)
        emit("done", peer=hostport(peer), outcome=outcome)
        conn.close()
    listener.close()
    outcomes = st["outcomes"]
    summary = {"connections": st["connections"], "sent": st["sent"], "errors": st["errors"], "outcomes": outcomes}
    summary.update({"completed": outcomes.count("completed"), "reset": outcomes.count("reset"), "stalled": outcomes.count("stalled")})
    summary["failed"] = len(outcomes) - summary["completed"]
    # Every declared counter is there in both modes: what a sender received is 0 bytes.
    seconds = time.time() - st["started"]
    summary.update({"bytes": 0, "expectedBytes": args.bytes, "longestGapMs": 0, "throughputBps": round(st["sent"] * 8 / seconds) if seconds else 0})
    if st["received"]:
        summary.update({k: v for k, v in st["received"].items() if k not in ("connections", "sent", "errors", "outcomes", "completed", "reset", "stalled", "failed")})
    emit("summary", **summary)


def finish(conn, wait_s, st):
    """After the last byte: close our side, then wait for the client's close (its FIN), a reset, or a time-out."""
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(wait_s)
        while conn.recv(65536):
            pass
        return "completed"
    except socket.timeout:
        return "completed"  # every byte was written; the client keeps its side open
    except OSError as e:
        st["errors"].append(errno_name(e))
        return "reset" if errno_name(e) == "ECONNRESET" else "error"


if __name__ == "__main__":
    main()

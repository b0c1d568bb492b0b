#!/usr/bin/env python3
"""Generic bulk TCP client (declared scenarios: `run: tcp-bulk-client`).

One connection to --to:--port. With --mode receive (a download, the default) it reads until the
server closes, checking every byte of the --bytes bytes of the stream derived from --seed (see
bulkdata.py), and gives up after --stall seconds without data; with --mode send (an upload) it
writes --bytes bytes and closes. What the application saw is its outcome: completed, reset
(ECONNRESET), stalled, short (the server closed early), corrupted, refused or timeout (connect).
Events: ready (local), progress (bytes, bps every --interval s), socket_error;
summary (bytes, expectedBytes, completed, reset, stalled, failed: 0 or 1 each; outcome, error,
sha256, firstMismatchAt, longestGapMs, throughputBps, timeline [{t, bytes, bps}]).
"""
import argparse
import socket

from bulkdata import Receiver, pattern, send_stream, sent_outcome
from labagent import describe, emit, errno_name, hostport, stop_event


DECLARATION = {
    "kind": "tcp-bulk-client",
    "semantics": "One connection to --to:--port. With --mode receive (a download, the default) it reads until the server closes, checking every byte of the --bytes bytes of the stream derived from --seed, and gives up after --stall seconds without data; with --mode send (an upload) it writes --bytes bytes and closes. Its outcome is what the application saw: completed, reset (ECONNRESET), stalled, short (closed early), corrupted, refused or timeout (connect).",
    "counters": {
        "bytes": "bytes received (sent, in send mode)",
        "expectedBytes": "bytes the transfer holds",
        "completed": "1 when every byte arrived right, else 0",
        "reset": "1 when the connection was reset",
        "stalled": "1 when no data came for --stall seconds",
        "failed": "1 when the transfer did not complete",
        "longestGapMs": "the longest wait for data",
        "throughputBps": "bits per second over the transfer"
    },
    "events": {
        "ready": "connected, or not (local)",
        "progress": "bytes so far and the interval's rate (bps), every --interval",
        "socket_error": "the error that ended it"
    }
}


def main():
    describe(DECLARATION)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--to", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["receive", "send"], default="receive")
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--seed", default="lab")
    ap.add_argument("--chunk", type=int, default=65536)
    ap.add_argument("--stall", type=float, default=5.0)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--timeout", type=float, default=5.0)
    args = ap.parse_args()
    stop = stop_event()
    buf = pattern(args.seed)
    rx = Receiver(buf, args.bytes, args.stall, args.interval)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(args.timeout)
    try:
        sock.connect((args.to, args.port))
    except (OSError, socket.timeout) as e:
        emit("ready", local=None)
        emit("socket_error", error=errno_name(e))
        summary = rx.summary()
        outcome = "timeout" if isinstance(e, socket.timeout) else ("refused" if errno_name(e) == "ECONNREFUSED" else "error")
        summary.update({"outcome": outcome, "error": errno_name(e), "failed": 1})
        emit("summary", **summary)
        return
    emit("ready", local=hostport(sock.getsockname()))
    if args.mode == "receive":
        rx.run(sock, stop)
        summary = rx.summary()
        if rx.error:
            emit("socket_error", error=rx.error)
    else:
        sent, error = send_stream(sock, buf, args.bytes, args.chunk, stop)
        outcome = sent_outcome(sent, args.bytes, error)
        summary = {"bytes": sent, "expectedBytes": args.bytes, "completed": int(outcome == "completed"), "reset": int(outcome == "reset"),
                   "stalled": 0, "failed": int(outcome != "completed"), "outcome": outcome, "error": error}
        if error:
            emit("socket_error", error=error)
    sock.close()
    emit("summary", **summary)


if __name__ == "__main__":
    main()

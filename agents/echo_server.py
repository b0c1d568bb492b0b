#!/usr/bin/env python3
"""TCP echo server for many clients at once (one thread each)."""
import argparse
import socket
import threading
import time

from labagent import emit, stop_event, tcp_listener

lock = threading.Lock()


def serve(conn, counts):
    conn.settimeout(1.0)
    with conn:
        while True:
            try:
                data = conn.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            try:
                conn.sendall(data)
            except OSError:
                return
            with lock:
                counts["echoed"] += len(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=9100)
    ap.add_argument("--duration", type=float, default=120.0)
    args = ap.parse_args()
    stop = stop_event()
    listener = tcp_listener(args.port, backlog=128, timeout=0.2)
    counts = {"accepted": 0, "echoed": 0}
    emit("ready", port=args.port)
    started = time.time()
    while not stop.is_set() and time.time() - started < args.duration:
        try:
            conn, peer = listener.accept()
        except socket.timeout:
            continue
        counts["accepted"] += 1
        threading.Thread(target=serve, args=(conn, counts), daemon=True).start()
    emit("summary", **counts)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Download client for taskcluster-reset: read the server's header (size and sha256), then the
bytes, and report whether the download completed with the right content or where it stopped."""
import argparse
import hashlib
import socket
import time

from labagent import emit, errno_name, hostport, read_line, stop_event


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds without data that count as a stall")
    ap.add_argument("--duration", type=float, default=60.0)
    args = ap.parse_args()
    stop = stop_event()
    emit("ready", server="%s:%d" % (args.server, args.port))
    started = time.time()
    received, expected, want, error = 0, None, None, None
    digest = hashlib.sha256()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(args.timeout)
    try:
        sock.connect((args.server, args.port))
        emit("connected", local=hostport(sock.getsockname()))
        line, rest = read_line(sock, b"", "closed before the header")
        _, size, _, want = line.decode().split()
        expected = int(size)
        digest.update(rest)
        received = len(rest)
        while received < expected and not stop.is_set() and time.time() - started < args.duration:
            chunk = sock.recv(256 * 1024)
            if not chunk:
                break
            digest.update(chunk)
            received += len(chunk)
    except socket.timeout:
        error = "timeout"
    except OSError as e:
        error = errno_name(e)
    finally:
        sock.close()
    ok = expected is not None and received == expected and digest.hexdigest() == want
    emit("summary", bytesReceived=received, expectedBytes=expected, completed=ok, sha256Ok=ok if received == expected else None,
         error=error, stoppedAt=None if ok else received, durationMs=round((time.time() - started) * 1000))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Client agent: connect to a TCP echo server and keep talking, one line per interval, and
report how the connection ended from the client's own point of view: intact, reset or timeout.

With --echoes-after-go N the client ends, intact, as soon as N more lines have come back after
SIGUSR1 (the run sends it once the server has forged its segment): the talk lasts as long as the
evidence needs, and --duration only caps it when no signal comes.

With --pause-after N the client goes quiet once N lines have come back (0: right after connecting,
as `nc` does in Kubernetes' e2e test for issue 74839), reports "idle", and sends nothing more
until SIGUSR1 (or --duration): the server forges while nothing is in flight."""
import argparse
import errno
import signal
import socket
import time

from labagent import emit, errno_name, hostport, read_line, stop_event


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--duration", type=float, default=5.0, help="seconds to keep talking (at most, with --echoes-after-go)")
    ap.add_argument("--reply-timeout", type=float, default=3.0, help="seconds without an echo that count as a timeout")
    ap.add_argument("--connect-timeout", type=float, default=5.0)
    ap.add_argument("--echoes-after-go", type=int, default=0, help="end intact after this many echoes following SIGUSR1 (0: talk for --duration)")
    ap.add_argument("--pause-after", type=int, default=-1, help="go quiet after this many echoes until SIGUSR1 (-1: never)")
    args = ap.parse_args()

    stopping = stop_event()
    go = {"t": None, "echoes": 0, "idleAt": None}

    def on_go(signum, frame):
        go["t"] = go["t"] or time.time()

    signal.signal(signal.SIGUSR1, on_go)
    emit("ready", server=args.server, port=args.port)

    sent = echoed = 0
    outcome, error, local = None, None, None
    last_echo = None
    longest_wait = None
    started = time.time()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(args.connect_timeout)
    try:
        sock.connect((args.server, args.port))
        local = hostport(sock.getsockname())
        emit("connected", local=local)
        sock.settimeout(args.reply_timeout)
        buffer = b""
        while time.time() - started < args.duration and not stopping.is_set():
            if echoed == args.pause_after and go["idleAt"] is None:
                go["idleAt"] = time.time()
                emit("idle", sent=sent, echoed=echoed)
                while go["t"] is None and time.time() - started < args.duration and not stopping.is_set():
                    time.sleep(0.01)
                continue
            line = ("ping %d\n" % sent).encode()
            went_at = time.time()
            sock.sendall(line)
            sent += 1
            _, buffer = read_line(sock, buffer, "server closed the connection")
            echoed += 1
            last_echo = time.time()
            longest_wait = max(longest_wait or 0.0, last_echo - went_at)
            if go["t"] is not None and went_at >= go["t"]:
                go["echoes"] += 1
                if args.echoes_after_go and go["echoes"] >= args.echoes_after_go:
                    break
            time.sleep(args.interval)
        outcome = "intact"
    except socket.timeout:
        outcome, error = "timeout", "no echo within %.1fs" % args.reply_timeout
    except ConnectionResetError as e:
        outcome, error = "reset", errno_name(e)
    except OSError as e:
        outcome = "reset" if e.errno in (errno.ECONNRESET, errno.EPIPE) else "error"
        error = errno_name(e)
    finally:
        try:
            sock.close()
        except OSError:
            pass
    if stopping.is_set() and outcome == "intact":
        outcome = "stopped"
    emit("summary", outcome=outcome, error=error, local=local, sent=sent, echoed=echoed, lastEchoT=last_echo,
         durationS=round(time.time() - started, 3),
         longestEchoWaitMs=round(longest_wait * 1000, 1) if longest_wait is not None else None,
         goAfterS=round(go["t"] - started, 3) if go["t"] else None, echoesAfterGo=go["echoes"],
         idleForS=round(go["t"] - go["idleAt"], 3) if go["t"] and go["idleAt"] else None)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Host-side server for docker-desktop-udp: accept one TCP client at a time; while it is connected,
send UDP datagrams to the published port (--udp-host:--udp-port) every --udp-interval seconds. A new
TCP client replaces the previous one; UDP stops when the TCP client disconnects."""
import argparse
import select
import socket
import time

from labagent import emit, hostport, stop_event, tcp_listener


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tcp-port", type=int, default=11002)
    ap.add_argument("--udp-host", required=True)
    ap.add_argument("--udp-port", type=int, default=54603)
    ap.add_argument("--udp-interval", type=float, default=0.05)
    ap.add_argument("--duration", type=float, default=120.0)
    args = ap.parse_args()
    stop = stop_event()

    listener = tcp_listener(args.tcp_port, backlog=4)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    emit("ready", tcpPort=args.tcp_port, udpTarget="%s:%d" % (args.udp_host, args.udp_port))

    sessions = []
    current = None
    started = time.time()
    next_send = 0.0

    def close_current(how):
        if current is None:
            return
        current["sock"].close()
        current["end"] = how
        emit("tcp_closed", session=current["n"], peer=current["peer"], how=how, udpSent=current["udpSent"], udpErrors=current["udpErrors"])

    while not stop.is_set() and time.time() - started < args.duration:
        watch = [listener] + ([current["sock"]] if current else [])
        timeout = max(0.0, next_send - time.time()) if current else 0.2
        readable, _, _ = select.select(watch, [], [], timeout)
        if listener in readable:
            conn, peer = listener.accept()
            close_current("replaced")
            current = {"n": len(sessions) + 1, "sock": conn, "peer": hostport(peer), "udpSent": 0, "udpErrors": 0, "label": None, "end": None}
            sessions.append(current)
            emit("tcp_accepted", session=current["n"], peer=current["peer"])
        if current and current["sock"] in readable:
            try:
                data = current["sock"].recv(4096)
            except OSError:
                data = b""
            if not data:
                close_current("closed")
                current = None
                continue
            text = data.decode(errors="replace").strip()
            if text.startswith("LABEL "):
                current["label"] = text.split(" ", 1)[1].splitlines()[0]
        if current and time.time() >= next_send:
            try:
                udp.sendto(("udp %d %d\n" % (current["n"], current["udpSent"])).encode(), (args.udp_host, args.udp_port))
                current["udpSent"] += 1
            except OSError:
                current["udpErrors"] += 1
            next_send = time.time() + args.udp_interval
    close_current("stopped")
    emit("summary", sessions=[{k: v for k, v in s.items() if k != "sock"} for s in sessions])


if __name__ == "__main__":
    main()

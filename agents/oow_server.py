#!/usr/bin/env python3
"""Server agent for docker-1090: accept one TCP connection, echo it, forge one segment
outside what the client expects and watch the rest of the connection for a RST from the peer.

--forge-placement ahead: seq = what the client acknowledged + offset (beyond its window);
--forge-placement behind: seq = what the client acknowledged - offset (data acknowledged long
ago), the trigger of Kubernetes' regression image for issue 74839.

--forge-when idle (as that image does): forge on SIGUSR1, sent once the client has gone quiet;
the server first waits (at most --settle seconds) until the client has acknowledged every byte
echoed to it and every byte it sent has arrived, so the forged segment's ack is the client's
current next sequence number. --forge-when in-flight: forge as the client's data segment number
--forge-at-line (0: its first) arrives (or the first one --forge-after seconds after the SYN), with ack = that segment's own seq: a server segment sent
before that line came in and delivered late, as a delayed segment in a busy network is.

Sniffs with a raw IPPROTO_TCP socket (a copy of every TCP segment this host receives) and
forges with a raw IPPROTO_RAW socket, so the kernel's own TCP socket stays untouched.
"""
import argparse
import signal
import socket
import threading
import time

import rawtcp
from labagent import emit, errno_name, hostport, stop_event, tcp_listener

lock = threading.Lock()


def forge_seq(client_ack, placement, offset):
    return (client_ack + offset if placement == "ahead" else client_ack - offset) % 2**32


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--forge-offset", type=int, default=100000, help="bytes between the client's ack and the forged segment")
    ap.add_argument("--forge-placement", choices=["ahead", "behind"], default="ahead")
    ap.add_argument("--forge-when", choices=["idle", "in-flight"], default="idle")
    ap.add_argument("--forge-at-line", type=int, default=0, help="in-flight: forge as the client's data segment with this index arrives")
    ap.add_argument("--forge-after", type=float, default=0.0, help="in-flight: the forge rides on the first line that arrives this many seconds after the SYN or later")
    ap.add_argument("--settle", type=float, default=0.5, help="idle: seconds to wait at most for the client's ack to be current")
    ap.add_argument("--payload-bytes", type=int, default=10)
    ap.add_argument("--accept-within", type=float, default=120.0,
                    help="seconds to wait for the client (starting it in a container on an emulated VM takes tens of seconds)")
    ap.add_argument("--duration", type=float, default=30.0, help="hard limit for the connection, from the handshake")
    ap.add_argument("--linger", type=float, default=1.0, help="seconds to keep sniffing after the connection ended")
    args = ap.parse_args()

    stop = stop_event()
    go = {"at": None}
    signal.signal(signal.SIGUSR1, lambda signum, frame: go.__setitem__("at", go["at"] or time.time()))
    state = {"established": None, "peer": None, "local": None, "forged": None, "rsts": [], "end": None, "error": None,
             "bytes_echoed": 0, "bytes_after_forge": 0}
    # Per peer, from the first segment seen (the handshake may be sniffed before accept() returns).
    peers = {}

    sniffer = rawtcp.sniffer()
    raw = rawtcp.sender()
    listener = tcp_listener(args.port, timeout=0.2)
    emit("ready", port=args.port, forgeOffset=args.forge_offset, forgePlacement=args.forge_placement, forgeWhen=args.forge_when)

    def echo(sock):
        sock.settimeout(0.2)
        try:
            while not stop.is_set():
                try:
                    data = sock.recv(4096)
                except socket.timeout:
                    continue
                if not data:
                    state["end"] = state["end"] or "fin"
                    return
                sock.sendall(data)
                with lock:
                    state["bytes_echoed"] += len(data)
                    if state["forged"]:
                        state["bytes_after_forge"] += len(data)
        except OSError as e:
            state["error"] = errno_name(e)
            state["end"] = state["end"] or ("reset" if e.errno == 104 else "error")
        finally:
            emit("connection_end", how=state["end"], error=state["error"])

    def watch(packet):
        src, dst, sport, dport, seq, ack, flags, win, plen = rawtcp.parse(packet)
        if dport != args.port:
            return
        peer = peers.setdefault(hostport((src, sport)), {"next": None, "ack": None, "isn1": None, "serverIsn1": None, "lines": 0, "segments": 0, "synAt": time.time()})
        peer["segments"] += 1
        if flags & rawtcp.RST:
            if hostport((src, sport)) != state["peer"]:
                return
            forged = state["forged"]
            rst = {"from": hostport((src, sport)), "seq": seq, "ack": ack, "t": time.time(), "afterForge": bool(forged),
                   "msAfterForge": round((time.time() - forged["t"]) * 1000, 1) if forged else None}
            state["rsts"].append(rst)
            emit("rst", **{k: v for k, v in rst.items() if k != "t"})
            return
        if flags & rawtcp.SYN:
            peer["isn1"] = (seq + 1) % 2**32
        if plen > 0:
            due = peer["lines"] >= args.forge_at_line and time.time() - peer["synAt"] >= args.forge_after
            if args.forge_when == "in-flight" and state["forged"] is None and due:
                # A segment the server sent before this line arrived: it acknowledges everything but this line.
                forge(hostport((dst, dport)), hostport((src, sport)), seq, ack, (seq + plen) % 2**32)
            peer["lines"] += 1
        peer["next"] = (seq + plen + (1 if flags & (rawtcp.SYN | rawtcp.FIN) else 0)) % 2**32
        if flags & rawtcp.ACK:
            peer["ack"] = ack
            peer["serverIsn1"] = ack if peer["serverIsn1"] is None else peer["serverIsn1"]

    def forge(local, peer, ack_field, client_ack, received_next, settled=None):
        local_ip, local_port = local.rsplit(":", 1)
        peer_ip, peer_port = peer.rsplit(":", 1)
        seq = forge_seq(client_ack, args.forge_placement, args.forge_offset)
        payload = b"X" * args.payload_bytes
        segment = rawtcp.build_segment(local_ip, peer_ip, int(local_port), int(peer_port), seq, ack_field, rawtcp.PSH | rawtcp.ACK, payload)
        raw.sendto(segment, (peer_ip, 0))
        state["forged"] = {"seq": seq, "ack": ack_field, "baseSeq": client_ack, "offset": args.forge_offset,
                           "placement": args.forge_placement, "length": args.payload_bytes, "when": args.forge_when,
                           "receivedNext": received_next, "ackCurrent": settled, "flags": "PSH|ACK", "t": time.time()}
        emit("forged", **{k: v for k, v in state["forged"].items() if k != "t"})

    def idle_is_settled(peer):
        """The client acknowledged every echoed byte and every byte it sent has been seen."""
        with lock:
            echoed = state["bytes_echoed"]
        if peer["isn1"] is None or peer["serverIsn1"] is None or peer["next"] is None or peer["ack"] is None:
            return False
        return peer["ack"] == (peer["serverIsn1"] + echoed) % 2**32 and peer["next"] == (peer["isn1"] + echoed) % 2**32

    started = time.time()
    conn = None
    ended_at = None
    def time_left():
        if state["established"] is None:
            return time.time() - started < args.accept_within
        return time.time() - state["established"] < args.duration

    while not stop.is_set() and time_left():
        if conn is None:
            try:
                conn, peer = listener.accept()
                state["peer"], state["local"] = hostport(peer), hostport(conn.getsockname())
                state["established"] = time.time()
                emit("established", peer=state["peer"], local=state["local"])
                threading.Thread(target=echo, args=(conn,), daemon=True).start()
            except socket.timeout:
                pass
        try:
            packet = sniffer.recv(65535)
        except socket.timeout:
            packet = None
        if packet:
            watch(packet)
        peer = peers.get(state["peer"]) if state["peer"] else None
        if args.forge_when == "idle" and go["at"] and not state["forged"] and peer and peer["ack"] is not None and state["end"] is None:
            settled = idle_is_settled(peer)
            # Forge once the sniffer has caught up (no segment waiting) and the ack is current, or when settling took too long.
            if (settled and packet is None) or time.time() - go["at"] >= args.settle:
                forge(state["local"], state["peer"], peer["next"], peer["ack"], peer["next"], settled)
        if state["end"] is not None:
            ended_at = ended_at or time.time()
            if time.time() - ended_at >= args.linger:
                break

    if conn is not None:
        try:
            conn.close()
        except OSError:
            pass
    emit("summary",
         established=state["established"] is not None,
         peer=state["peer"],
         local=state["local"],
         forged=state["forged"],
         rsts=state["rsts"],
         rstsAfterForge=sum(1 for r in state["rsts"] if r["afterForge"]),
         firstRstMsAfterForge=next((r["msAfterForge"] for r in state["rsts"] if r["afterForge"]), None),
         bytesEchoed=state["bytes_echoed"],
         bytesEchoedAfterForge=state["bytes_after_forge"] if state["forged"] else None,
         segmentsFromPeer=peers[state["peer"]]["segments"] if state["peer"] in peers else 0,
         connectionEnd=state["end"] or "timeout",
         error=state["error"])


if __name__ == "__main__":
    main()

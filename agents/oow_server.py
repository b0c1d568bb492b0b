#!/usr/bin/env python3
"""Server agent for docker-1090: accept one TCP connection, echo it, forge one segment
outside what the client expects and watch the rest of the connection for a RST from the peer.

--forge-placement ahead: seq = what the client acknowledged + offset (beyond its window);
--forge-placement behind: seq = what the client acknowledged - offset (data acknowledged long
ago), the trigger of Kubernetes' regression image for issue 74839. The forged segment carries
ack = the client's next sequence number.

Sniffs with a raw IPPROTO_TCP socket (a copy of every TCP segment this host receives) and
forges with a raw IPPROTO_RAW socket, so the kernel's own TCP socket stays untouched.
"""
import argparse
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
    ap.add_argument("--forge-after", type=float, default=1.0, help="seconds after the handshake to forge (0: at once)")
    ap.add_argument("--payload-bytes", type=int, default=10)
    ap.add_argument("--accept-within", type=float, default=120.0,
                    help="seconds to wait for the client (starting it in a container on an emulated VM takes tens of seconds)")
    ap.add_argument("--duration", type=float, default=30.0, help="hard limit for the connection, from the handshake")
    ap.add_argument("--linger", type=float, default=1.0, help="seconds to keep sniffing after the connection ended")
    args = ap.parse_args()

    stop = stop_event()
    state = {"established": None, "peer": None, "local": None, "forged": None, "rsts": [], "end": None, "error": None,
             "bytes_echoed": 0, "bytes_after_forge": 0, "client_next": None, "client_ack": None, "segments_from_peer": 0}

    sniffer = rawtcp.sniffer()
    raw = rawtcp.sender()
    listener = tcp_listener(args.port, timeout=0.2)
    emit("ready", port=args.port, forgeOffset=args.forge_offset, forgePlacement=args.forge_placement)

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
        if hostport((src, sport)) != state["peer"] or dport != args.port:
            return
        state["segments_from_peer"] += 1
        if flags & rawtcp.RST:
            forged = state["forged"]
            rst = {"from": hostport((src, sport)), "seq": seq, "ack": ack, "t": time.time(), "afterForge": bool(forged),
                   "msAfterForge": round((time.time() - forged["t"]) * 1000, 1) if forged else None}
            state["rsts"].append(rst)
            emit("rst", **{k: v for k, v in rst.items() if k != "t"})
            return
        state["client_next"] = (seq + plen + (1 if flags & (rawtcp.SYN | rawtcp.FIN) else 0)) % 2**32
        if flags & rawtcp.ACK:
            state["client_ack"] = ack

    def forge():
        local_ip, local_port = state["local"].rsplit(":", 1)
        peer_ip, peer_port = state["peer"].rsplit(":", 1)
        seq = forge_seq(state["client_ack"], args.forge_placement, args.forge_offset)
        payload = b"X" * args.payload_bytes
        segment = rawtcp.build_segment(local_ip, peer_ip, int(local_port), int(peer_port), seq, state["client_next"], rawtcp.PSH | rawtcp.ACK, payload)
        raw.sendto(segment, (peer_ip, 0))
        state["forged"] = {"seq": seq, "ack": state["client_next"], "baseSeq": state["client_ack"], "offset": args.forge_offset,
                           "placement": args.forge_placement, "length": args.payload_bytes, "flags": "PSH|ACK", "t": time.time()}
        emit("forged", **{k: v for k, v in state["forged"].items() if k != "t"})

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
        if packet and state["peer"]:
            watch(packet)
        if (state["established"] and not state["forged"] and state["client_ack"] is not None
                and time.time() - state["established"] >= args.forge_after and state["end"] is None):
            forge()
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
         segmentsFromPeer=state["segments_from_peer"],
         connectionEnd=state["end"] or "timeout",
         error=state["error"])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Server agent for docker-1090: accept one TCP connection, echo it, forge one segment
outside the client's window and watch the rest of the connection for a RST from the peer.

Sniffs with a raw IPPROTO_TCP socket (a copy of every TCP segment this host receives) and
forges with a raw IPPROTO_RAW socket, so the kernel's own TCP socket stays untouched.
"""
import argparse
import json
import signal
import socket
import struct
import sys
import threading
import time

TH_FIN, TH_SYN, TH_RST, TH_PSH, TH_ACK = 0x01, 0x02, 0x04, 0x08, 0x10
lock = threading.Lock()


def emit(event, **fields):
    fields = dict(event=event, t=time.time(), **fields)
    with lock:
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def build_segment(src, dst, sport, dport, seq, ack, flags, payload):
    offset = 5 << 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset, flags, 502, 0, 0) + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    csum = checksum(pseudo + tcp)
    tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
    total = 20 + len(tcp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0x04, total, 54321, 0x4000, 64, socket.IPPROTO_TCP, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def parse(packet):
    ihl = (packet[0] & 0x0F) * 4
    src = socket.inet_ntoa(packet[12:16])
    dst = socket.inet_ntoa(packet[16:20])
    sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", packet[ihl:ihl + 16])
    payload_len = len(packet) - ihl - (off >> 4) * 4
    return src, dst, sport, dport, seq, ack, flags, win, payload_len


def flag_names(flags):
    names = [n for bit, n in ((TH_SYN, "SYN"), (TH_FIN, "FIN"), (TH_RST, "RST"), (TH_PSH, "PSH"), (TH_ACK, "ACK")) if flags & bit]
    return "|".join(names)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--forge-offset", type=int, default=100000, help="bytes beyond the client's ack the forged segment starts at")
    ap.add_argument("--forge-after", type=float, default=1.0, help="seconds after the handshake to forge")
    ap.add_argument("--payload-bytes", type=int, default=10)
    ap.add_argument("--duration", type=float, default=30.0, help="hard limit for the whole agent")
    ap.add_argument("--linger", type=float, default=1.0, help="seconds to keep sniffing after the connection ended")
    args = ap.parse_args()

    stop = threading.Event()
    state = {"established": None, "peer": None, "local": None, "forged": None, "rsts": [], "end": None, "error": None,
             "bytes_echoed": 0, "bytes_after_forge": 0, "client_next": None, "client_ack": None, "segments_from_peer": 0}

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    sniffer = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    sniffer.settimeout(0.1)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", args.port))
    listener.listen(1)
    listener.settimeout(0.2)
    emit("ready", port=args.port, forgeOffset=args.forge_offset)

    started = time.time()
    conn = None

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

    echo_thread = None
    ended_at = None
    while not stop.is_set() and time.time() - started < args.duration:
        if conn is None:
            try:
                conn, peer = listener.accept()
                state["peer"] = "%s:%d" % peer
                state["local"] = "%s:%d" % conn.getsockname()
                state["established"] = time.time()
                emit("established", peer=state["peer"], local=state["local"])
                echo_thread = threading.Thread(target=echo, args=(conn,), daemon=True)
                echo_thread.start()
            except socket.timeout:
                pass
        try:
            packet = sniffer.recv(65535)
        except socket.timeout:
            packet = None
        if packet and state["peer"]:
            src, dst, sport, dport, seq, ack, flags, win, plen = parse(packet)
            if "%s:%d" % (src, sport) == state["peer"] and dport == args.port:
                state["segments_from_peer"] += 1
                if flags & TH_RST:
                    rst = {"from": "%s:%d" % (src, sport), "seq": seq, "ack": ack, "t": time.time(),
                           "afterForge": bool(state["forged"]), "msAfterForge": round((time.time() - state["forged"]["t"]) * 1000, 1) if state["forged"] else None}
                    state["rsts"].append(rst)
                    emit("rst", **{k: v for k, v in rst.items() if k != "t"})
                else:
                    state["client_next"] = (seq + plen + (1 if flags & (TH_SYN | TH_FIN) else 0)) % 2**32
                    if flags & TH_ACK:
                        state["client_ack"] = ack
        if (state["established"] and not state["forged"] and state["client_ack"] is not None
                and time.time() - state["established"] >= args.forge_after and state["end"] is None):
            local_ip, local_port = state["local"].rsplit(":", 1)
            peer_ip, peer_port = state["peer"].rsplit(":", 1)
            seq = (state["client_ack"] + args.forge_offset) % 2**32
            segment = build_segment(local_ip, peer_ip, int(local_port), int(peer_port), seq, state["client_next"], TH_PSH | TH_ACK, b"X" * args.payload_bytes)
            raw.sendto(segment, (peer_ip, 0))
            state["forged"] = {"seq": seq, "ack": state["client_next"], "baseSeq": state["client_ack"], "offset": args.forge_offset,
                               "length": args.payload_bytes, "flags": "PSH|ACK", "t": time.time()}
            emit("forged", **{k: v for k, v in state["forged"].items() if k != "t"})
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


def errno_name(e):
    import errno as errno_mod
    return errno_mod.errorcode.get(e.errno, str(e)) if e.errno else str(e)


if __name__ == "__main__":
    main()

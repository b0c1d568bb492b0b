#!/usr/bin/env python3
"""Bulk-download server for taskcluster-reset: send --size-mib of random bytes (sha256 announced in
a header line) to one client and, during the transfer, re-send copies of old, already-acknowledged
byte ranges with a raw socket, the way a delaying middlebox delivers late segments. Injected
copies carry the right payload, the connection's 4-tuple and IP TOS 0x04 so captures can find
them. A raw IPPROTO_TCP socket sniffs the client's ACKs (to learn what is acknowledged) and RSTs."""
import argparse
import hashlib
import os
import socket
import struct
import threading
import time

import rawtcp
from labagent import emit, errno_name, hostport, stop_event, tcp_listener

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--size-mib", type=float, default=16)
    ap.add_argument("--inject-late", type=int, default=4, help="how many late copies to inject (0: none)")
    ap.add_argument("--late-distance", default="1048576", help="bytes behind the highest ACK where a copy starts; comma-separated values are used in turn")
    ap.add_argument("--late-length", type=int, default=1400)
    ap.add_argument("--inject-every-mib", type=float, default=2.0)
    ap.add_argument("--duration", type=float, default=60.0)
    args = ap.parse_args()
    distances = [int(d) for d in args.late_distance.split(",")]
    size = int(args.size_mib * 1024 * 1024)
    data = os.urandom(size)
    digest = hashlib.sha256(data).hexdigest()
    header = ("SIZE %d SHA256 %s\n" % (size, digest)).encode()

    stop = stop_event()
    st = {"peer": None, "local": None, "isn": None, "acked": 0, "client_next": None, "rsts": [], "injected": [], "sent": 0, "error": None, "completed": False}

    sniffer = rawtcp.sniffer()
    raw = rawtcp.sender()
    listener = tcp_listener(args.port, timeout=0.5)
    emit("ready", port=args.port, bytes=size, sha256=digest)

    def sniff():
        next_inject = args.inject_every_mib * 1024 * 1024
        while not stop.is_set():
            try:
                pkt = sniffer.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if not st["peer"]:
                continue
            ihl = (pkt[0] & 0x0F) * 4
            src = socket.inet_ntoa(pkt[12:16])
            sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", pkt[ihl:ihl + 14])
            if "%s:%d" % (src, sport) != st["peer"] or dport != args.port:
                continue
            plen = len(pkt) - ihl - (off >> 4) * 4
            if flags & rawtcp.RST:
                rst = {"from": st["peer"], "seq": seq, "acked": st["acked"], "t": time.time()}
                st["rsts"].append(rst)
                emit("rst", **rst)
                continue
            st["client_next"] = (seq + plen) % 2**32
            if flags & rawtcp.ACK:
                if st["isn"] is None:
                    st["isn"] = (ack - 1) % 2**32
                rel = (ack - st["isn"] - 1) % 2**32 - len(header)
                if 0 <= rel <= size and rel > st["acked"]:
                    st["acked"] = rel
            if (len(st["injected"]) < args.inject_late and st["acked"] >= next_inject):
                distance = distances[len(st["injected"]) % len(distances)]
                start = st["acked"] - distance
                if start >= 0:
                    payload = data[start:start + args.late_length]
                    seq_abs = (st["isn"] + 1 + len(header) + start) % 2**32
                    lip, lport = st["local"].rsplit(":", 1)
                    pip, pport = st["peer"].rsplit(":", 1)
                    segment = rawtcp.build_segment(lip, pip, int(lport), int(pport), seq_abs, st["client_next"], rawtcp.PSH | rawtcp.ACK, payload, ip_id=0)
                    raw.sendto(segment, (pip, 0))
                    rec = {"seq": seq_abs, "offset": start, "length": len(payload), "distance": distance, "ackedAt": st["acked"], "t": time.time()}
                    st["injected"].append(rec)
                    emit("injected", **rec)
                next_inject += args.inject_every_mib * 1024 * 1024

    threading.Thread(target=sniff, daemon=True).start()
    started = time.time()
    conn = None
    while not stop.is_set() and conn is None and time.time() - started < args.duration:
        try:
            conn, peer = listener.accept()
        except socket.timeout:
            continue
        st["peer"] = hostport(peer)
        st["local"] = hostport(conn.getsockname())
        emit("accepted", peer=st["peer"], local=st["local"])
    if conn is not None:
        conn.settimeout(5.0)
        try:
            conn.sendall(header)
            view = memoryview(data)
            chunk = 64 * 1024
            while st["sent"] < size and not stop.is_set() and time.time() - started < args.duration:
                n = conn.send(view[st["sent"]:st["sent"] + chunk])
                st["sent"] += n
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(3.0)
            while conn.recv(4096):
                pass
            st["completed"] = st["sent"] == size
        except OSError as e:
            st["error"] = errno_name(e)
        finally:
            conn.close()
    time.sleep(0.5)
    stop.set()
    emit("summary", peer=st["peer"], bytes=size, sha256=digest, bytesSent=st["sent"], sendCompleted=st["completed"], error=st["error"],
         injected=st["injected"], rsts=st["rsts"], rstsSeen=len(st["rsts"]), lastAcked=st["acked"])


if __name__ == "__main__":
    main()

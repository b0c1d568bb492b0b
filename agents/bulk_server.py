#!/usr/bin/env python3
"""Bulk-download server for taskcluster-reset: send --size-mib of random bytes (sha256 announced in
a header line) to one client and, during the transfer, re-send copies of old, already-acknowledged
byte ranges with a raw socket, the way a delaying middlebox delivers late segments. Injected
copies carry the right payload, the connection's 4-tuple and IP TOS 0x04 so captures can find
them. A raw IPPROTO_TCP socket sniffs the client's ACKs (to learn what is acknowledged) and RSTs."""
import argparse
import hashlib
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

TH_RST, TH_PSH, TH_ACK = 0x04, 0x08, 0x10
INJECT_TOS = 0x04
lock = threading.Lock()


def emit(event, **fields):
    record = dict(event=event, t=time.time())
    record.update(fields)
    with lock:
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def segment(src, dst, sport, dport, seq, ack, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, TH_PSH | TH_ACK, 502, 0, 0) + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, INJECT_TOS, 20 + len(tcp), 0, 0x4000, 64, socket.IPPROTO_TCP, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:] + tcp


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

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    st = {"peer": None, "local": None, "isn": None, "acked": 0, "client_next": None, "rsts": [], "injected": [], "sent": 0, "error": None, "completed": False}

    sniffer = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    sniffer.settimeout(0.1)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", args.port))
    listener.listen(1)
    listener.settimeout(0.5)
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
            if flags & TH_RST:
                rst = {"from": st["peer"], "seq": seq, "acked": st["acked"], "t": time.time()}
                st["rsts"].append(rst)
                emit("rst", **rst)
                continue
            st["client_next"] = (seq + plen) % 2**32
            if flags & TH_ACK:
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
                    raw.sendto(segment(lip, pip, int(lport), int(pport), seq_abs, st["client_next"], payload), (pip, 0))
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
        st["peer"] = "%s:%d" % peer
        st["local"] = "%s:%d" % conn.getsockname()
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
            import errno
            st["error"] = errno.errorcode.get(e.errno, str(e)) if e.errno else str(e)
        finally:
            conn.close()
    time.sleep(0.5)
    stop.set()
    emit("summary", peer=st["peer"], bytes=size, sha256=digest, bytesSent=st["sent"], sendCompleted=st["completed"], error=st["error"],
         injected=st["injected"], rsts=st["rsts"], rstsSeen=len(st["rsts"]), lastAcked=st["acked"])


if __name__ == "__main__":
    main()

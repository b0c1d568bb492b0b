"""Raw TCP for agents that forge or sniff segments: checksums, a segment builder, a parser.

Python 3.8+ standard library only; sending needs CAP_NET_RAW (an IPPROTO_RAW socket).
"""
import socket
import struct

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def build_segment(src, dst, sport, dport, seq, ack, flags, payload=b"", window=502, ip_id=54321):
    """An IPv4 packet with one TCP segment, checksums filled, for an IPPROTO_RAW socket."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq % 2**32, ack % 2**32, 5 << 4, flags, window, 0, 0) + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0x04, 20 + len(tcp), ip_id, 0x4000, 64, socket.IPPROTO_TCP, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def parse(packet):
    """(src, dst, sport, dport, seq, ack, flags, window, payload_length) of an IPv4 TCP packet."""
    ihl = (packet[0] & 0x0F) * 4
    src = socket.inet_ntoa(packet[12:16])
    dst = socket.inet_ntoa(packet[16:20])
    sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", packet[ihl:ihl + 16])
    payload_len = len(packet) - ihl - (off >> 4) * 4
    return src, dst, sport, dport, seq, ack, flags, win, payload_len


def flag_names(flags):
    return "|".join(n for bit, n in ((SYN, "SYN"), (FIN, "FIN"), (RST, "RST"), (PSH, "PSH"), (ACK, "ACK")) if flags & bit)


def sniffer(timeout=0.1):
    """A raw socket that receives a copy of every TCP segment this host (namespace) receives."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.settimeout(timeout)
    return s


def sender():
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)

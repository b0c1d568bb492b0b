#!/usr/bin/env python3
"""Echo server on a multi-homed host, for moby-15127.

Modes:
  recvfrom-any  UDP bound to 0.0.0.0, plain recvfrom/sendto: the kernel picks each reply's source
                address by route (the buggy way).
  bind-address  UDP bound to --address: replies leave from that address.
  pktinfo       UDP bound to 0.0.0.0 with IP_PKTINFO, recvmsg/sendmsg: each reply carries an
                IP_PKTINFO control message whose ipi_spec_dst is the local address the request was
                sent to, so the reply leaves from it (what dnsmasq does).
  tcp           TCP listener on 0.0.0.0, echoing each line back.

Events (JSON lines on stdout): ready, request (peer, local = the address the request arrived on when
the socket tells it, else null), reply (to, source = the source address the reply was sent with
when the server fixed it, else null; routeSource = the source the kernel's route lookup picks for
that peer, measured with a connect()ed probe socket, only in recvfrom-any), error, summary."""
import argparse
import select
import socket
import struct
import time

from labagent import emit, hostport, stop_event

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux value; older Pythons lack the constant
IN_PKTINFO = struct.Struct("=i4s4s")  # struct in_pktinfo {int ipi_ifindex; in_addr ipi_spec_dst, ipi_addr}


def route_source(peer):
    """Source address the kernel's route lookup chooses for `peer` (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(peer)
        return probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["recvfrom-any", "bind-address", "pktinfo", "tcp"], required=True)
    ap.add_argument("--port", type=int, default=56789)
    ap.add_argument("--address", help="host address to bind in bind-address mode (ignored by the other modes, which bind 0.0.0.0)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds to serve before writing the summary and exiting")
    args = ap.parse_args()
    if args.mode == "bind-address" and not args.address:
        ap.error("--address is required in bind-address mode")

    stop = stop_event()

    bind_ip = args.address if args.mode == "bind-address" else "0.0.0.0"
    state = {"requests": 0, "replies": 0, "errors": [], "locals": set(), "sources": set(), "routeSources": set()}

    def summary():
        emit(
            "summary",
            mode=args.mode,
            bound="%s:%d" % (bind_ip, args.port),
            requests=state["requests"],
            replies=state["replies"],
            localAddresses=sorted(state["locals"]),
            replySourcesUsed=sorted(state["sources"]),
            routeSources=sorted(state["routeSources"]),
            errors=state["errors"],
        )

    def fail(where, exc):
        text = "%s: %s" % (where, exc)
        state["errors"].append(text)
        emit("error", error=text)

    if args.mode == "tcp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((bind_ip, args.port))
        sock.listen(16)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if args.mode == "pktinfo":
            sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        sock.bind((bind_ip, args.port))
    sock.setblocking(False)
    emit("ready", mode=args.mode, bound=hostport(sock.getsockname()), proto="tcp" if args.mode == "tcp" else "udp")

    conns = {}  # tcp: socket -> pending bytes (an unfinished line)
    deadline = time.time() + args.duration
    while not stop.is_set():
        left = deadline - time.time()
        if left <= 0:
            break
        try:
            readable, _, _ = select.select([sock] + list(conns), [], [], min(0.2, left))
        except InterruptedError:
            continue
        for r in readable:
            if args.mode == "tcp":
                serve_tcp(sock, r, conns, state, fail)
            else:
                serve_udp(args, sock, state, fail)
    for c in conns:
        c.close()
    sock.close()
    summary()


def serve_udp(args, sock, state, fail):
    try:
        if args.mode == "pktinfo":
            data, anc, _flags, peer = sock.recvmsg(65535, socket.CMSG_SPACE(IN_PKTINFO.size))
        else:
            data, peer = sock.recvfrom(65535)
            anc = []
    except BlockingIOError:
        return
    except OSError as e:  # e.g. an ICMP error queued on the socket
        fail("receive", e)
        return
    state["requests"] += 1
    local = ifindex = spec_dst = None
    if args.mode == "pktinfo":
        for level, kind, payload in anc:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(payload) >= IN_PKTINFO.size:
                ifindex, spec, addr = IN_PKTINFO.unpack(payload[: IN_PKTINFO.size])
                spec_dst, local = socket.inet_ntoa(spec), socket.inet_ntoa(addr)
    elif args.mode == "bind-address":
        local = sock.getsockname()[0]
    if local:
        state["locals"].add(local)
    emit("request", peer=hostport(peer), local=local, ifindex=ifindex, bytes=len(data))

    source = route = None
    try:
        if args.mode == "pktinfo" and spec_dst:
            # ifindex 0: the kernel routes normally but with ipi_spec_dst as the source address.
            cmsg = IN_PKTINFO.pack(0, socket.inet_aton(spec_dst), socket.inet_aton("0.0.0.0"))
            sock.sendmsg([data], [(socket.IPPROTO_IP, IP_PKTINFO, cmsg)], 0, peer)
            source = spec_dst
        else:
            if args.mode == "pktinfo":
                fail("reply", "no IP_PKTINFO on the request; replying without it")
            sock.sendto(data, peer)
            if args.mode == "bind-address":
                source = sock.getsockname()[0]
            elif args.mode == "recvfrom-any":
                route = route_source(peer)
                if route:
                    state["routeSources"].add(route)
    except OSError as e:
        fail("reply to %s" % hostport(peer), e)
        return
    state["replies"] += 1
    if source:
        state["sources"].add(source)
    fields = {"to": hostport(peer), "source": source, "bytes": len(data)}
    if args.mode == "recvfrom-any":
        fields["routeSource"] = route
    emit("reply", **fields)


def serve_tcp(listener, r, conns, state, fail):
    if r is listener:
        try:
            conn, peer = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            fail("accept", e)
            return
        conn.setblocking(True)
        conn.settimeout(1.0)
        conns[conn] = b""
        emit("accepted", peer=hostport(peer), local=hostport(conn.getsockname()))
        return
    try:
        data = r.recv(4096)
    except OSError as e:
        fail("recv", e)
        data = b""
    if not data:
        conns.pop(r, None)
        r.close()
        return
    buf = conns[r] + data
    peer, local = r.getpeername(), r.getsockname()[0]
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        line += b"\n"
        state["requests"] += 1
        state["locals"].add(local)
        emit("request", peer=hostport(peer), local=local, bytes=len(line))
        try:
            r.sendall(line)
        except OSError as e:
            fail("reply to %s" % hostport(peer), e)
            continue
        state["replies"] += 1
        state["sources"].add(local)  # a TCP reply always leaves from the connection's local address
        emit("reply", to=hostport(peer), source=local, bytes=len(line))
    conns[r] = buf


if __name__ == "__main__":
    main()

"""What dockerd does for a published port when the userland proxy is off (portmapper newDummyProxy, moby v20.10.24 and
v26.1.5): bind hostIp:hostPort and never read, so no other program takes the port and whatever reaches it without the
DNAT is absorbed (TCP: a listener that never accepts; UDP: a socket never read, so no ICMP port unreachable).

argv: proto host-ip host-port. Readiness on fd 3 as docker-proxy reports it: "0\n", or "1\n" and the error.
"""
import os
import signal
import socket
import sys

proto, ip, port = sys.argv[1:]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind((ip, int(port)))
    if proto == "tcp":
        s.listen(socket.SOMAXCONN)
except OSError as e:
    os.write(3, b"1\n" + str(e).encode())
    sys.exit(1)
os.write(3, b"0\n")
os.close(3)
signal.pause()

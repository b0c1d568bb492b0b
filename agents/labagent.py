"""Shared by every agent: JSON-lines output, stop on signal, errno names.

Deployed next to each agent (the run copies agents/*.py that an agent imports), so an agent
imports it as `import labagent`. Python 3.8+ standard library only.
"""
import errno
import json
import signal
import sys
import threading
import time

_lock = threading.Lock()


def emit(event, **fields):
    """Write one JSON line: {"event": ..., "t": <unix time>, ...fields}. Thread-safe."""
    record = {"event": event, "t": time.time()}
    record.update(fields)
    line = json.dumps(record)
    with _lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def stop_event():
    """A threading.Event set by SIGTERM or SIGINT: loops poll it and end cleanly (and emit their summary)."""
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def errno_name(e):
    """ECONNRESET rather than 'Connection reset by peer [Errno 104]'."""
    code = getattr(e, "errno", None)
    if code:
        return errno.errorcode.get(code, str(code))
    return type(e).__name__ if not str(e) else str(e)


def hostport(addr):
    """('10.0.0.1', 80) -> '10.0.0.1:80'."""
    return "%s:%d" % (addr[0], addr[1])


def tcp_listener(port, backlog=1, timeout=None):
    """A TCP socket listening on 0.0.0.0:port (SO_REUSEADDR, so a previous variant's TIME_WAIT does not block it)."""
    import socket

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(backlog)
    if timeout is not None:
        listener.settimeout(timeout)
    return listener


def read_line(sock, buffer, closed_message):
    """Read from sock until buffer holds a full line; returns (line, rest). A closed peer raises ECONNABORTED."""
    while b"\n" not in buffer:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionAbortedError(errno.ECONNABORTED, closed_message)
        buffer += chunk
    line, rest = buffer.split(b"\n", 1)
    return line, rest


def describe(declaration):
    """`<agent> --describe`: print what the agent declares (arguments come from the lab's schema) as JSON and exit."""
    if "--describe" in sys.argv[1:]:
        sys.stdout.write(json.dumps(declaration, indent=2) + "\n")
        sys.exit(0)

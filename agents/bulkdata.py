"""The byte stream a bulk transfer carries, and the two ends of one (shared by the generic bulk agents).

Position p of a transfer holds PATTERN[p % len(PATTERN)], a 1 MiB block derived from the seed with SHA-256, so a
receiver checks every byte against what the sender sent without any side channel, and says where the first wrong
byte is. Python 3.8+ standard library only.
"""
import hashlib
import socket
import time

from labagent import emit, errno_name

PATTERN_BYTES = 1 << 20


def pattern(seed):
    blocks = (hashlib.sha256(("%s:%d" % (seed, i)).encode()).digest() for i in range(PATTERN_BYTES // 32))
    return b"".join(blocks)


def expected_slice(buf, offset, length):
    """The `length` bytes the stream holds from `offset` on."""
    out = bytearray()
    while length > 0:
        start = offset % len(buf)
        part = buf[start:start + length]
        out += part
        offset += len(part)
        length -= len(part)
    return bytes(out)


def sent_outcome(sent, total, error):
    """How a sender's transfer ended: completed (every byte written), reset (ECONNRESET) or error."""
    if error is None and sent == total:
        return "completed"
    return "reset" if error == "ECONNRESET" else "error"


def send_stream(sock, buf, total, chunk, stop):
    """Write `total` bytes of the stream; returns (bytes written, error name or None)."""
    sent = 0
    while sent < total and not stop.is_set():
        data = expected_slice(buf, sent, min(chunk, total - sent))
        try:
            sock.sendall(data)
        except OSError as e:
            return sent, errno_name(e)
        sent += len(data)
    return sent, None


class Receiver:
    """Reads a stream to its end, a stall or an error, checking each byte, timing progress per interval."""

    def __init__(self, buf, total, stall_s, interval_s):
        self.buf, self.total, self.stall_s, self.interval_s = buf, total, stall_s, interval_s
        self.received = 0
        self.sha = hashlib.sha256()
        self.first_mismatch = None
        self.timeline = []
        self.longest_gap = 0.0
        self.outcome = None
        self.error = None

    def run(self, sock, stop):
        sock.settimeout(min(self.interval_s, self.stall_s))
        start = last_data = time.time()
        bucket_start, bucket = start, 0
        while not stop.is_set():
            now = time.time()
            if now - bucket_start >= self.interval_s:
                self._tick(bucket_start - start, bucket, now - bucket_start)
                bucket_start, bucket = now, 0
            if now - last_data >= self.stall_s:
                self.outcome, self.error = "stalled", "no data for %.1f s" % (now - last_data)
                break
            try:
                data = sock.recv(262144)
            except socket.timeout:
                continue
            except OSError as e:
                self.outcome, self.error = ("reset" if errno_name(e) == "ECONNRESET" else "error"), errno_name(e)
                break
            if not data:
                self.outcome = "completed" if self.received == self.total else "short"
                break
            now = time.time()
            self.longest_gap = max(self.longest_gap, now - last_data)
            last_data = now
            self._check(data)
            bucket += len(data)
        else:
            self.outcome = "stopped"
        self._tick(bucket_start - start, bucket, time.time() - bucket_start)
        self.seconds = time.time() - start
        if self.outcome == "completed" and self.first_mismatch is not None:
            self.outcome = "corrupted"

    def _check(self, data):
        if self.first_mismatch is None:
            n = min(len(data), max(0, self.total - self.received))
            want = expected_slice(self.buf, self.received, n)
            if data[:n] != want:
                self.first_mismatch = self.received + next(i for i in range(n) if data[i] != want[i])
            elif len(data) > n:
                self.first_mismatch = self.received + n  # more bytes than the transfer holds
        self.received += len(data)
        self.sha.update(data)

    def _tick(self, at, nbytes, width):
        if width <= 0:
            return
        self.timeline.append({"t": round(at, 3), "bytes": nbytes, "bps": round(nbytes * 8 / width)})
        emit("progress", bytes=self.received, bps=round(nbytes * 8 / width))

    def summary(self):
        """Counters (numbers) for verdict rules, and the details a reader needs."""
        return {
            "bytes": self.received,
            "expectedBytes": self.total,
            "completed": int(self.outcome == "completed"),
            "reset": int(self.outcome == "reset"),
            "stalled": int(self.outcome == "stalled"),
            "failed": int(self.outcome != "completed"),
            "outcome": self.outcome,
            "error": self.error,
            "sha256": self.sha.hexdigest(),
            "firstMismatchAt": self.first_mismatch,
            "longestGapMs": round(self.longest_gap * 1000, 1),
            "throughputBps": round(self.received * 8 / self.seconds) if getattr(self, "seconds", 0) else 0,
            "timeline": self.timeline,
        }

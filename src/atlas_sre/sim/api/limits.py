"""What one client may cost the server: sizes, times and connection counts, each with its limit.

The served API faces agents that may be careless or manipulated, so no request may hold memory,
a thread or a socket without bound. The values follow kube-apiserver where it has one (1 MiB of
request head as Go's `MaxHeaderBytes`, 3 MiB of body as `MaxRequestBodyBytes`), and are chosen for a
single-user local server where it has none (the connection and watch caps, the idle timeout).

`Connections` is the bookkeeping: every connection registers how long it may stay in its current
phase, and the server's loop (`reap`, called about twice a second) shuts down the sockets whose
time is up, so a client that sends nothing, or drips a byte at a time, is dropped at a fixed
deadline however it spaces its bytes (a per-read socket timeout alone would not catch a drip).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass

MAX_HEAD_BYTES = 1 << 20  # request line + headers (Go's DefaultMaxHeaderBytes, kube-apiserver's MaxHeaderBytes)
MAX_BODY_BYTES = 3 * 1024 * 1024  # kube-apiserver's MaxRequestBodyBytes: larger is 413 before reading
HEAD_TIMEOUT = 10.0  # seconds from a request's first byte until its head and body are read
IDLE_TIMEOUT = 30.0  # a keep-alive connection waiting for its next request (also a new one's first)
WRITE_TIMEOUT = 30.0  # one blocked send to a client that stopped reading
MAX_CONNECTIONS = 128  # handler threads, watches included; beyond: the oldest idle one is closed, else 429
MAX_WATCHES = 64  # open watch streams (each holds a connection until its timeoutSeconds, at most MAX_WATCH_SECONDS)
MAX_WATCH_SECONDS = 3600.0  # the longest timeoutSeconds honoured (the apiserver's default watch is 1800-3600 s)

IDLE, HEAD, BUSY, WATCH = "idle", "head", "busy", "watch"


@dataclass
class _Conn:
    sock: socket.socket
    phase: str = IDLE
    deadline: float | None = None
    since: float = 0.0


class Connections:
    """The open connections, their phases and deadlines; thread-safe."""

    def __init__(self, max_connections: int = MAX_CONNECTIONS, max_watches: int = MAX_WATCHES) -> None:
        self.max_connections = max_connections
        self.max_watches = max_watches
        self._lock = threading.Lock()
        self._conns: dict[int, _Conn] = {}

    def admit(self, sock: socket.socket) -> bool:
        """Register a new connection; when full, close the longest-idle one to make room, else refuse."""
        with self._lock:
            if len(self._conns) >= self.max_connections:
                idle = [c for c in self._conns.values() if c.phase == IDLE]
                if not idle:
                    return False
                oldest = min(idle, key=lambda c: c.since)
                del self._conns[id(oldest.sock)]
                _shut(oldest.sock)
            now = time.monotonic()
            self._conns[id(sock)] = _Conn(sock, IDLE, now + IDLE_TIMEOUT, now)
        return True

    def enter(self, sock: socket.socket, phase: str, timeout: float | None = None) -> bool:
        """Move a connection to `phase` with `timeout` seconds to finish it; False when a watch is over the cap."""
        with self._lock:
            conn = self._conns.get(id(sock))
            if conn is None:  # evicted meanwhile, or never admitted (a test's own server)
                return phase != WATCH or self._watching() < self.max_watches
            if phase == WATCH and conn.phase != WATCH and self._watching() >= self.max_watches:
                return False
            now = time.monotonic()
            conn.phase, conn.since = phase, now
            conn.deadline = now + timeout if timeout is not None else None
        return True

    def leave(self, sock: socket.socket) -> None:
        with self._lock:
            self._conns.pop(id(sock), None)

    def reap(self) -> None:
        """Shut down every connection past its deadline (its handler then reads EOF and ends)."""
        now = time.monotonic()
        with self._lock:
            late = [c for c in self._conns.values() if c.deadline is not None and c.deadline <= now]
            for conn in late:
                del self._conns[id(conn.sock)]
        for conn in late:
            _shut(conn.sock)

    def count(self) -> int:
        with self._lock:
            return len(self._conns)

    def _watching(self) -> int:
        return sum(1 for c in self._conns.values() if c.phase == WATCH)

    def watching(self) -> int:
        """Open watch streams now (a watch that ended, by timeout or a client that left, is gone)."""
        with self._lock:
            return self._watching()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by its handler
        sock.shutdown(socket.SHUT_RDWR)

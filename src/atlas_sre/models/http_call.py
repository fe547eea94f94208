"""One HTTP exchange with a deadline for the whole exchange and a cap on the size of the answer.

Socket timeouts bound each read, not a call: a server that drips one byte every two seconds never
trips a 120 s read timeout and can hold a call for ever, and a server that sends 30 MB gets read
whole. Here every read re-arms the socket's timeout with the time left until one deadline (a
monotonic instant), so the call ends at the deadline whatever the server does, and the body is read
in chunks that stop one byte past the cap. Standard library only (`http.client`), proxies from the
environment as `urllib` reads them.
"""

from __future__ import annotations

import http.client
import io
import socket
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

ERROR_BODY_BYTES = 64 * 1024
"""An error answer is read up to this size and cut there: only its message is needed."""

_CHUNK = 64 * 1024


class DeadlinePassed(Exception):
    """The deadline passed before the answer was complete; `received` bytes had arrived by then."""

    def __init__(self, received: int) -> None:
        super().__init__(f"deadline passed after {received} bytes")
        self.received = received


class ReplyTooLarge(Exception):
    """The answer's body is larger than the cap (declared by Content-Length, or seen while reading)."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        super().__init__(f"reply larger than {limit} bytes")
        self.limit = limit
        self.declared = declared


@dataclass(frozen=True)
class HttpReply:
    """Status, lower-cased headers and the body (complete, or cut at the error-body cap)."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Clock:
    """The deadline and the bytes received so far, shared by the socket wrapper and its reader."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.received = 0

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlinePassed(self.received)
        return left


class _DeadlineReader(io.RawIOBase):
    """The socket's byte stream, each `recv` allowed only the time left until the deadline."""

    def __init__(self, sock: socket.socket, clock: _Clock) -> None:
        self._sock, self._clock = sock, clock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._sock.settimeout(self._clock.left())
        try:
            n = self._sock.recv_into(buffer)
        except TimeoutError:
            raise DeadlinePassed(self._clock.received) from None
        self._clock.received += n
        return n


class _DeadlineSocket:
    """What `http.client` needs of a socket (`sendall`, `makefile`, `close`), bounded by the deadline."""

    def __init__(self, sock: socket.socket, clock: _Clock) -> None:
        self._sock, self._clock = sock, clock

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(self._clock.left())
        try:
            self._sock.sendall(data)
        except TimeoutError:
            raise DeadlinePassed(self._clock.received) from None

    def makefile(self, mode: str = "rb", *args: object, **kwargs: object) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._clock))

    def close(self) -> None:
        """Nothing: `http.client` closes the connection while its response still reads from it (HTTP/1.0,
        `Connection: close`); `exchange` closes the real socket once the body is read."""

    def __getattr__(self, name: str) -> Any:  # setsockopt, fileno, ...: the real socket's
        return getattr(self._sock, name)


def _connection(url: urllib.parse.SplitResult, clock: _Clock) -> tuple[http.client.HTTPConnection, str]:
    """A connection to the host (or to the environment's proxy for it) and the request target to send."""
    https = url.scheme == "https"
    host, port = url.hostname or "", url.port
    target = (url.path or "/") + (f"?{url.query}" if url.query else "")
    proxy = urllib.request.getproxies().get(url.scheme)
    cls = http.client.HTTPSConnection if https else http.client.HTTPConnection
    if proxy and not urllib.request.proxy_bypass(host):
        via = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if https:
            conn = cls(via.hostname or "", via.port, timeout=clock.left())
            conn.set_tunnel(host, port)
            return conn, target
        return http.client.HTTPConnection(via.hostname or "", via.port, timeout=clock.left()), url.geturl()
    return cls(host, port, timeout=clock.left()), target


def exchange(method: str, url: str, *, headers: dict[str, str], body: bytes | None, deadline: float,
             max_bytes: int) -> HttpReply:
    """Send one request and read the whole answer before `deadline` (`time.monotonic()` clock).

    Raises `DeadlinePassed` at the deadline (connecting, sending, waiting or reading), `ReplyTooLarge`
    for a success body over `max_bytes` (refused from its Content-Length before reading, else after
    `max_bytes` + 1 bytes), and `OSError` / `http.client.HTTPException` for network failures.
    """
    clock = _Clock(deadline)
    conn, target = _connection(urllib.parse.urlsplit(url), clock)
    raw: socket.socket | None = None
    try:
        try:
            conn.connect()
        except TimeoutError:
            raise DeadlinePassed(0) from None
        raw = conn.sock
        conn.sock = _DeadlineSocket(raw, clock)  # type: ignore[assignment]
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        return HttpReply(response.status, {k.lower(): v for k, v in response.getheaders()},
                         _read_body(response, max_bytes))
    finally:
        conn.close()
        if raw is not None:
            raw.close()


def _read_body(response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    """The body in chunks, never more than the cap plus one chunk in memory; error bodies are cut, not refused."""
    ok = response.status < 400
    cap = max_bytes if ok else ERROR_BODY_BYTES
    declared = response.getheader("content-length")
    if ok and declared and declared.strip().isdigit() and int(declared) > cap:
        raise ReplyTooLarge(cap, int(declared))
    parts: list[bytes] = []
    total = 0
    while True:
        chunk = response.read(min(_CHUNK, cap + 1 - total))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        total += len(chunk)
        if total > cap:
            if ok:
                raise ReplyTooLarge(cap)
            return b"".join(parts)[:cap]

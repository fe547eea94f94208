"""A read-only Kubernetes API server over a derived ClusterState (stdlib only, 127.0.0.1 only).

Real kubectl and the official Python client talk to it unchanged. Three rules keep them happy:
every reply carries Content-Length (HTTP/1.1 keep-alive), every error is a JSON `Status` (protocol
errors too: no HTML page, no traceback), and a handler bug becomes a 500 Status rather than a
dropped connection (kubectl would retry for a long
time and then print "EOF"). An optional `/clusters/<id>` prefix is accepted and stripped so each
served scenario has its own URL, and so its own kubectl discovery cache.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from atlas_sre.sim.api import limits
from atlas_sre.sim.api.limits import BUSY, HEAD, IDLE, WATCH, Connections
from atlas_sre.sim.api.routes import Router
from atlas_sre.sim.api.status import Response, Stream, internal_error, no_route, status
from atlas_sre.sim.api.store import Store
from atlas_sre.sim.api.tables import LiveTable

HOST = "127.0.0.1"
# RFC 9110 `token` for the method; the version Go's server accepts over HTTP/1.x.
_REQUEST_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP/(\d)\.(\d)\r?\n")
# Status reasons for the protocol errors http.server reports through `send_error`.
_REASONS = {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed", 408: "Timeout", 411: "BadRequest",
            413: "RequestEntityTooLarge", 414: "RequestURITooLong", 429: "TooManyRequests",
            431: "RequestHeaderFieldsTooLarge", 501: "NotImplemented", 505: "HTTPVersionNotSupported"}
TOO_MANY = "Too many requests, please try again later."


class SimAPIServer(ThreadingHTTPServer):
    """The HTTP server; `router` answers, `prefix` is the optional `/clusters/<id>` path.

    One thread per connection, so an open watch (which may last until its `timeoutSeconds`) never
    holds up another request; `connections` caps them and drops the idle and the slow
    (`limits.py`). `closing` ends every open watch when the server stops.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the listen backlog (socketserver's 5 drops a discovery burst's SYNs)

    def __init__(self, router: Router, *, port: int = 0, prefix: str = "", verbose: bool = False) -> None:
        self.router = router
        self.prefix = [p for p in prefix.split("/") if p]
        self.verbose = verbose
        self.cache: dict[tuple[str, str], Response] = {}
        self.cache_limit = 512  # distinct GETs kept; an episode issues far fewer
        self.closing = threading.Event()
        self.connections = Connections()
        super().__init__((HOST, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread for the connection, if a slot is free (or an idle connection gives one up); else 429."""
        if not self.connections.admit(request):
            _refuse(request)
            return
        super().process_request(request, client_address)

    def service_actions(self) -> None:
        """Called by `serve_forever` about twice a second: drop connections past their deadline."""
        self.connections.reap()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed outside a request (reset, timeout): one line when verbose, never a traceback."""
        if self.verbose:
            sys.stderr.write(f"sim-api: {client_address}: {sys.exc_info()[1]!r}\n")

    def shutdown_request(self, request: Any) -> None:
        self.connections.leave(request)
        super().shutdown_request(request)

    def shutdown(self) -> None:
        self.closing.set()
        super().shutdown()

    def server_close(self) -> None:
        self.closing.set()
        super().server_close()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """The base URL clients use (prefix included)."""
        path = "/" + "/".join(self.prefix) if self.prefix else ""
        return f"http://{HOST}:{self.port}{path}"


def make_server(state: Any, *, port: int = 0, prefix: str = "", verbose: bool = False,
                live: bool | None = None) -> SimAPIServer:
    """Index `state` once and bind a server to 127.0.0.1:`port` (0: any free port); not yet serving.

    `live`: table ages move with the wall clock (default: the state's `clock.live`).
    """
    return SimAPIServer(Router(Store(state, live=live)), port=port, prefix=prefix, verbose=verbose)


def _refuse(sock: socket.socket) -> None:
    """Answer a connection over the cap with a 429 Status and close it (from the accepting thread: never blocks)."""
    response = status(429, "TooManyRequests", TOO_MANY, {"retryAfterSeconds": 1})
    head = (f"HTTP/1.1 429 Too Many Requests\r\nContent-Type: {response.content_type}\r\n"
            f"Content-Length: {len(response.body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n").encode()
    try:
        sock.setblocking(False)
        sock.send(head + response.body)
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class _BadRequest(Exception):
    """A request that cannot be read: answered with this Status, then the connection closes."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.1"  # so even a refused request line gets status line and headers
    server_version = "atlas-sre-sim/1"
    sys_version = ""
    timeout = limits.WRITE_TIMEOUT  # per socket operation; whole-request deadlines are `Connections`'
    server: SimAPIServer
    _body = b""

    def handle_one_request(self) -> None:
        """Read one request within the limits, answer it; every refusal is a Status, then close.

        Replaces http.server's loop, which answers protocol errors with an HTML page, dispatches
        only methods it has a `do_` for (501 otherwise), and waits for a request line forever.
        """
        conns, sock = self.server.connections, self.connection
        conns.enter(sock, IDLE, limits.IDLE_TIMEOUT)
        self.command, self.request_version, self.requestline = None, self.default_request_version, ""
        try:
            raw = self.rfile.readline(limits.MAX_HEAD_BYTES + 1)
        except OSError:  # reset, or shut down by the reaper
            raw = b""
        if not raw:
            self.close_connection = True
            return
        conns.enter(sock, HEAD, limits.HEAD_TIMEOUT)
        try:
            self._read_request(raw)
        except _BadRequest as exc:
            self.send_error(exc.code, str(exc))
            return
        except OSError:
            self.close_connection = True
            return
        conns.enter(sock, BUSY)
        try:
            self._dispatch(self.command or "GET", self._body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _read_request(self, raw: bytes) -> None:
        """Parse the request line, headers and body into `command`, `path`, `headers`, `_body`.

        _BadRequest when unreadable; OSError when http.server's own header checks refused (and answered).
        """
        if len(raw) > limits.MAX_HEAD_BYTES or not raw.endswith(b"\n"):
            raise _BadRequest(431, f"request line longer than {limits.MAX_HEAD_BYTES} bytes")
        self.raw_requestline = raw
        self.requestline = raw.decode("latin-1").rstrip("\r\n")
        m = _REQUEST_LINE.fullmatch(raw)
        if m is None:
            raise _BadRequest(400, f"malformed HTTP request {self.requestline[:80]!r}")
        if m.group(3) != b"1":
            raise _BadRequest(505, f"unsupported protocol version HTTP/{m.group(3).decode()}.{m.group(4).decode()}")
        if not self.parse_request():  # headers (http.server's caps: 100 lines of 64 KiB); it has answered
            self.close_connection = True
            raise OSError("request refused while parsing")
        self._body = self._read_body()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Every protocol error as a `Status` (http.server would send an HTML page), then close."""
        self.close_connection = True
        response = status(code, _REASONS.get(code, "BadRequest"), message or self.responses.get(code, ("",))[0])
        response.headers["Connection"] = "close"
        with contextlib.suppress(OSError):
            self._send(response, body=self.command != "HEAD")

    def handle_expect_100(self) -> bool:
        """Refuse an oversized body before the client sends it."""
        try:
            self._content_length()
        except _BadRequest as exc:
            self.send_error(exc.code, str(exc))
            return False
        return super().handle_expect_100()

    def _content_length(self) -> int:
        """The declared body size, checked against the cap (kube-apiserver: 413 before reading)."""
        values = self.headers.get_all("Content-Length") or []
        if len(set(values)) > 1:
            raise _BadRequest(400, f"message cannot contain multiple Content-Length headers; got {values!r}")
        raw = (values[0] if values else "").strip()
        if not raw:
            return 0
        if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
            raise _BadRequest(400, f"bad Content-Length {raw[:40]!r}")
        length = int(raw)
        if length > limits.MAX_BODY_BYTES:
            raise _BadRequest(413, f"Request entity too large: limit is {limits.MAX_BODY_BYTES}")
        return length

    def _dispatch(self, method: str, body: bytes) -> None:
        key = (self.path, self.headers.get("Accept", ""))
        cache = self.server.cache
        response = cache.get(key) if method == "GET" else None
        if response is None:
            try:
                response = self._answer(method, body)
            except Exception as exc:  # a bug must still answer: a dropped connection confuses clients
                response = internal_error(exc)
            # The served state never changes, so a GET answer is valid for the server's lifetime:
            # repeated listings (an agent re-running `get pods -A`) cost a dictionary lookup.
            if (method == "GET" and response.status == 200 and response.stream is None
                    and len(cache) < self.server.cache_limit and len(self.path) <= 4096):
                cache[key] = response
        if isinstance(response, LiveTable):  # cached rows, ages measured now
            response = response.at(self.server.router.store.now)
        if response.stream is not None and method != "HEAD":
            timeout = response.stream.timeout + limits.WRITE_TIMEOUT
            if not self.server.connections.enter(self.connection, WATCH, timeout):
                self.send_error(429, TOO_MANY)
                return
            self._send_stream(response, response.stream)
        else:
            self._send(response, body=method != "HEAD")

    def _read_body(self) -> bytes:
        """Read the whole request body (at most MAX_BODY_BYTES), so the next request on this connection parses."""
        encoding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        if encoding and encoding != "identity":
            if encoding != "chunked":
                raise _BadRequest(501, f"unsupported transfer encoding: {encoding!r}")
            return self._read_chunked()
        length = self._content_length()
        chunks: list[bytes] = []
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                raise _BadRequest(400, "unexpected EOF reading the request body")
            chunks.append(chunk)
            length -= len(chunk)
        return b"".join(chunks)

    def _read_chunked(self) -> bytes:
        """A chunked body, refused with 413 as soon as it passes the cap."""
        body = bytearray()
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise _BadRequest(400, "malformed chunked encoding") from None
            if size < 0 or len(body) + size > limits.MAX_BODY_BYTES:
                raise _BadRequest(413, f"Request entity too large: limit is {limits.MAX_BODY_BYTES}")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline(1024)

    def _answer(self, method: str, body: bytes) -> Response:
        parts = urlsplit(self.path)
        segments = [unquote(s) for s in parts.path.split("/") if s]  # also normalises trailing slashes
        prefix = self.server.prefix
        if prefix and segments[: len(prefix)] == prefix:
            segments = segments[len(prefix):]
        elif segments[:1] == ["clusters"]:
            return no_route()  # another episode's URL: never answer it with this cluster
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        return self.server.router.handle(method, segments, query, self.headers.get("Accept", ""), body)

    def _send(self, response: Response, body: bool = True) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-cache, private")
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(response.body)

    def _send_stream(self, response: Response, stream: Stream) -> None:
        """A watch: chunked events now, bookmarks later, then the last chunk at the timeout.

        Ends early, without error, when the client closes (kubectl's `--request-timeout`, Ctrl-C,
        an informer stopping) or the server stops. After a clean end the connection stays usable.
        """
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        start = time.monotonic()
        try:
            self._chunk(b"".join(stream.initial()))
            for at, chunk in stream.later():
                if at >= stream.timeout:
                    break
                if not self._idle_until(start + at):
                    return
                self._chunk(chunk)
            if not self._idle_until(start + stream.timeout):
                return
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client went away mid-write
            self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _idle_until(self, deadline: float) -> bool:
        """Wait until `deadline`; False (the connection then closes) if the client or the server ends first.

        A watching client sends nothing, so anything readable (EOF or bytes) means it is done.
        """
        conn = self.connection
        while (left := deadline - time.monotonic()) > 0:
            if self.server.closing.is_set():
                self.close_connection = True
                return False
            readable, _, _ = select.select([conn], [], [], min(left, 0.5))
            if readable:
                self.close_connection = True
                return False
        return True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        if self.server.verbose:
            sys.stderr.write(f"sim-api: {self.address_string()} {format % args}\n")

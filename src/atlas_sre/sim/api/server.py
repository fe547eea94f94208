"""A read-only Kubernetes API server over a derived ClusterState (stdlib only, 127.0.0.1 only).

Real kubectl and the official Python client talk to it unchanged. Three rules keep them happy:
every reply carries Content-Length (HTTP/1.1 keep-alive), every error is a JSON `Status`, and a
handler bug becomes a 500 Status rather than a dropped connection (kubectl would retry for a long
time and then print "EOF"). An optional `/clusters/<id>` prefix is accepted and stripped so each
served scenario has its own URL, and so its own kubectl discovery cache.
"""

from __future__ import annotations

import select
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from atlas_sre.sim.api.routes import Router
from atlas_sre.sim.api.status import Response, Stream, internal_error, no_route
from atlas_sre.sim.api.store import Store
from atlas_sre.sim.api.tables import LiveTable

HOST = "127.0.0.1"


class SimAPIServer(ThreadingHTTPServer):
    """The HTTP server; `router` answers, `prefix` is the optional `/clusters/<id>` path.

    One thread per connection, so an open watch (which may last until its `timeoutSeconds`) never
    holds up another request. `closing` ends every open watch when the server stops.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, router: Router, *, port: int = 0, prefix: str = "", verbose: bool = False) -> None:
        self.router = router
        self.prefix = [p for p in prefix.split("/") if p]
        self.verbose = verbose
        self.cache: dict[tuple[str, str], Response] = {}
        self.cache_limit = 512  # distinct GETs kept; an episode issues far fewer
        self.closing = threading.Event()
        super().__init__((HOST, port), _Handler)

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


def _verb(method: str) -> Callable[[_Handler], None]:
    """The `do_<METHOD>` handler for one HTTP method."""
    def handle(self: _Handler) -> None:
        self._dispatch(method)
    return handle


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "atlas-sre-sim/1"
    sys_version = ""
    server: SimAPIServer

    # http.server calls `do_<METHOD>`; every method goes through the one dispatcher below.
    do_GET = _verb("GET")
    do_HEAD = _verb("HEAD")
    do_POST = _verb("POST")
    do_PUT = _verb("PUT")
    do_PATCH = _verb("PATCH")
    do_DELETE = _verb("DELETE")
    do_OPTIONS = _verb("OPTIONS")

    def _dispatch(self, method: str) -> None:
        body = self._read_body()
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
                    and len(cache) < self.server.cache_limit):
                cache[key] = response
        if isinstance(response, LiveTable):  # cached rows, ages measured now
            response = response.at(self.server.router.store.now)
        if response.stream is not None and method != "HEAD":
            self._send_stream(response, response.stream)
        else:
            self._send(response, body=method != "HEAD")

    def _read_body(self) -> bytes:
        """Read the whole request body, so the next request on this keep-alive connection parses."""
        length = int(self.headers.get("Content-Length") or 0)
        chunks: list[bytes] = []
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            length -= len(chunk)
        return b"".join(chunks)

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

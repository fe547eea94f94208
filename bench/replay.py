"""A record-then-replay HTTP server: the floor any Kubernetes API server could reach for kubectl.

Why: `kubectl get pods -A` at 10,000 pods spends most of its time in kubectl itself (decoding and
printing). To say how much the simulator adds, `sim_api.py` times the same command against a
server that answers from memory with the very bytes the simulator sent (status, headers, body),
recorded once through this proxy. The ratio simulator ÷ replay is then the simulator's own cost.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Key = tuple[str, str]
Recorded = tuple[int, list[tuple[str, str]], bytes]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class ReplayServer:
    """Forward GETs to `upstream` while recording; after `freeze()`, answer only from the record."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.record: dict[Key, Recorded] = {}
        self.frozen = False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                key = (self.path, self.headers.get("Accept", ""))
                hit = owner.record.get(key)
                if hit is None and not owner.frozen:
                    hit = owner.forward(self.path, dict(self.headers.items()))
                    owner.record[key] = hit
                status, headers, body = hit or (404, [("Content-Type", "text/plain")], b"not recorded\n")
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def forward(self, path: str, headers: dict[str, str]) -> Recorded:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            conn.request("GET", path, headers={k: v for k, v in headers.items() if k.lower() != "host"})
            resp = conn.getresponse()
            body = resp.read()
            kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            return resp.status, kept, body
        finally:
            conn.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def freeze(self) -> None:
        self.frozen = True

    def __enter__(self) -> ReplayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

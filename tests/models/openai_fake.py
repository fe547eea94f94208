"""A real HTTP server (stdlib) speaking the two OpenAI endpoints the backend uses.

Each test queues the answers it wants (status, body, headers) and reads back the requests the
backend really sent over the socket, so request shape, retries and error handling are tested
through actual HTTP rather than a mocked client.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted HTTP answer; `body` is JSON-encoded unless it is already bytes/str."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    """One request as received on the wire."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any


def chat_body(text: str, *, model: str = "tiny", prompt: int | None = 11, completion: int | None = 3) -> dict:
    """A well-formed chat completion, with usage unless both counts are None."""
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }
    if prompt is not None or completion is not None:
        usage = {"prompt_tokens": prompt, "completion_tokens": completion}
        body["usage"] = {k: v for k, v in usage.items() if v is not None}
    return body


class FakeOpenAIServer:
    """Serves queued replies for POST /v1/chat/completions and a model list for GET /v1/models."""

    def __init__(self, models: list[str] | None = None) -> None:
        self.models = models if models is not None else ["tiny", "qwen"]
        self.chat_replies: deque[Reply] = deque()
        self.models_status = 200
        self.seen: list[Seen] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def queue(self, *replies: Reply) -> None:
        self.chat_replies.extend(replies)

    def chats(self) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith("/chat/completions")]

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep pytest output clean
                return

            def _send(self, reply: Reply) -> None:
                payload = reply.body
                if not isinstance(payload, (bytes, str)):
                    payload = json.dumps(payload)
                data = payload.encode() if isinstance(payload, str) else payload
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
                for k, v in reply.headers.items():
                    if k != "Content-Type":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                outer.seen.append(
                    Seen("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, None)
                )
                if self.path.rstrip("/").endswith("/v1/models") and outer.models_status == 200:
                    data = [{"id": m, "object": "model", "owned_by": "test"} for m in outer.models]
                    self._send(Reply(200, {"object": "list", "data": data}))
                else:
                    self._send(Reply(outer.models_status or 404, {"error": {"message": "not here"}}))

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    body = raw.decode(errors="replace")
                outer.seen.append(
                    Seen("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                if not self.path.endswith("/v1/chat/completions"):
                    self._send(Reply(404, {"error": {"message": f"no route {self.path}"}}))
                    return
                reply = (
                    outer.chat_replies.popleft() if outer.chat_replies else Reply(200, chat_body("default"))
                )
                self._send(reply)

        return Handler


def closed_port() -> int:
    """A local port with nothing listening (bound then released), for connection-refused tests."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RecordingProxy:
    """Forwards every request to a real server and records what the client sent, so an end-to-end
    test against a real model server can still assert the exact request shape on the wire."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")  # e.g. http://127.0.0.1:8000 (no /v1)
        self.seen: list[Seen] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def _forward(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length) if length else None
                body = json.loads(raw) if raw else None
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.seen.append(Seen(method, self.path, headers, body))
                req = urllib.request.Request(outer.target + self.path, data=raw, method=method)
                req.add_header("Content-Type", "application/json")
                try:
                    with urllib.request.urlopen(req, timeout=600) as resp:
                        status, data = resp.status, resp.read()
                except urllib.error.HTTPError as err:
                    status, data = err.code, err.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self._forward("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._forward("POST")

        return Handler

"""Bounded model calls against real local servers: a whole-call deadline, a reply-size cap, and token
counts we check rather than trust (issue 15, "Bounded models").

The hostile servers are raw sockets, so they can do what a well-behaved HTTP library never would:
drip one byte at a time, or stream 30 MB without a Content-Length.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from openai_fake import FakeOpenAIServer, Reply, chat_body

from atlas_sre.models import ModelError, OpenAIChatModel, OpenAIConfig
from atlas_sre.models.openai_http import reply_byte_cap

MESSAGES = [{"role": "user", "content": "Which pod is failing?"}]
THIRTY_MB = 30 * 1024 * 1024


def _read_request(conn: socket.socket) -> None:
    """Read one request (headers, then Content-Length bytes of body) so the client is not reset."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += conn.recv(65536)


@contextmanager
def raw_server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A one-thread TCP server: each connection's request is read, then `answer` writes what it likes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                try:
                    _read_request(conn)
                    answer(conn)
                except OSError:  # the client hung up on us: that is the point of most tests here
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def drip(payload: bytes, every_s: float) -> Callable[[socket.socket], None]:
    def answer(conn: socket.socket) -> None:
        for i in range(len(payload)):
            conn.sendall(payload[i:i + 1])
            time.sleep(every_s)
    return answer


def model(url: str, **options: object) -> OpenAIChatModel:
    return OpenAIChatModel(OpenAIConfig(model="tiny", base_url=url, api_key="k", backoff_s=0.01, **options))


def one_line(exc: pytest.ExceptionInfo[ModelError]) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


BODY = json.dumps(chat_body("kubectl get pods -A")).encode()
OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)


@pytest.mark.parametrize(("where", "payload"), [
    ("headers", OK_HEAD + BODY),  # even the status line arrives a byte at a time
    ("body", None),               # headers at once, then the body drips
])
def test_a_dripping_server_cannot_hold_a_call_past_its_deadline(where: str, payload: bytes | None) -> None:
    def answer(conn: socket.socket) -> None:
        if payload is None:
            conn.sendall(OK_HEAD)
            drip(BODY, 0.5)(conn)
        else:
            drip(payload, 0.5)(conn)

    with raw_server(answer) as url:
        started = time.monotonic()
        with pytest.raises(ModelError) as info:
            model(url, timeout_s=2).complete(MESSAGES, max_tokens=20)
        took = time.monotonic() - started
    assert took < 2.6, f"the call took {took:.2f}s with timeout_s=2"  # one drip interval of slack at most
    text = one_line(info)
    assert text.startswith(f"model server at {url} did not finish its answer within 2s (timeout for the whole call; ")
    assert "bytes had arrived); check the server or raise timeout_s" in text


def test_retries_share_the_deadline_and_a_back_off_past_it_is_not_taken() -> None:
    """Three 503s with Retry-After: 5 and a 3 s deadline: no sleep is taken that would end past the
    deadline, so the call fails at once with the server's own error, not after 15 s."""
    error = b'{"error": {"message": "overloaded"}}'
    busy = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 5\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(error), error))
    with raw_server(lambda conn: conn.sendall(busy)) as url:
        started = time.monotonic()
        with pytest.raises(ModelError) as info:
            model(url, timeout_s=3, backoff_max_s=30).complete(MESSAGES, max_tokens=5)
        took = time.monotonic() - started
    assert took < 1.0
    assert one_line(info) == f"the model server at {url} failed (HTTP 503): overloaded"


def test_a_30_mb_reply_without_a_length_is_cut_off_after_the_cap() -> None:
    """A close-delimited 30 MB body: reading stops one byte past the cap, memory stays near the cap."""
    chunk = b"A" * (1024 * 1024)

    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
                     b'{"choices": [{"message": {"role": "assistant", "content": "')
        for _ in range(30):
            conn.sendall(chunk)
        conn.sendall(b'"}}]}')

    with raw_server(answer) as url:
        tracemalloc.start()
        started = time.monotonic()
        with pytest.raises(ModelError) as info:
            model(url, timeout_s=30).complete(MESSAGES, max_tokens=768)
        took = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    cap = reply_byte_cap(768)
    assert cap == 64 * 1024 + 256 * 768
    assert took < 2.0, f"took {took:.2f}s"
    assert peak < 4 * cap, f"peak {peak} bytes for a {cap}-byte cap"
    assert one_line(info) == (f"model server at {url} sent a reply larger than {cap} bytes; reading stopped "
                              "there: check the server, or raise max_reply_bytes")


def test_a_30_mb_reply_that_declares_its_length_is_refused_before_reading() -> None:
    with FakeOpenAIServer() as server:
        server.queue(Reply(200, json.dumps(chat_body("x" * THIRTY_MB))))
        started = time.monotonic()
        with pytest.raises(ModelError) as info:
            model(server.base_url, max_reply_bytes=4 * 1024 * 1024).complete(MESSAGES, max_tokens=768)
        took = time.monotonic() - started
    assert took < 2.0
    text = one_line(info)
    assert text.startswith(f"model server at {server.base_url} sent a reply larger than 4194304 bytes (it declared ")
    assert text.endswith("bytes); reading stopped there: check the server, or raise max_reply_bytes")


def test_a_reply_longer_than_max_tokens_allows_is_cut_and_counted_by_us() -> None:
    """Within the byte cap, but far more text than 20 tokens can be, with a server claiming 3 tokens:
    the text is cut to 20 x 32 characters and the count is ours, from the text the server sent."""
    long_text = "kubectl get pods -A " * 500  # 10 000 characters
    with FakeOpenAIServer() as server:
        server.queue(Reply(200, chat_body(long_text, prompt=11, completion=3)))
        out = model(server.base_url).complete(MESSAGES, max_tokens=20)
    assert len(out.text) == 20 * 32 and long_text.startswith(out.text)
    assert out.finish_reason == "length" and out.raw["reply_chars_cut"] == 10_000 - 640
    assert out.completion_tokens == 2500  # 10 000 characters / 4: the server's 3 is impossible
    assert out.raw["usage_estimated"] is True and out.raw["usage_counted_by_us"] == ["completion_tokens"]
    assert out.prompt_tokens == 11  # plausible, so the server's own


@pytest.mark.parametrize(("usage", "expected", "ours"), [
    ({"prompt_tokens": 9, "completion_tokens": 6}, (9, 6), []),                       # plausible: theirs
    ({}, (12, 7), ["prompt_tokens", "completion_tokens"]),                             # missing
    ({"prompt_tokens": "9", "completion_tokens": True}, (12, 7), ["prompt_tokens", "completion_tokens"]),
    ({"prompt_tokens": 9, "completion_tokens": 0}, (9, 7), ["completion_tokens"]),     # nothing for 27 characters
    ({"prompt_tokens": 9, "completion_tokens": -4}, (9, 7), ["completion_tokens"]),
    ({"prompt_tokens": 9, "completion_tokens": 10**9}, (9, 7), ["completion_tokens"]),  # over max_tokens
    ({"prompt_tokens": 10**12, "completion_tokens": 6}, (12, 6), ["prompt_tokens"]),   # more than the request
])
def test_usage_is_the_servers_only_when_plausible(usage: dict[str, object], expected: tuple[int, int],
                                                  ours: list[str]) -> None:
    body = chat_body("kubectl get pods -n shop -o", prompt=None, completion=None)
    body["usage"] = usage
    with FakeOpenAIServer() as server:
        server.queue(Reply(200, body))
        out = model(server.base_url).complete(MESSAGES, max_tokens=50)
    assert (out.prompt_tokens, out.completion_tokens) == expected
    assert out.raw.get("usage_counted_by_us", []) == ours
    assert out.raw["usage_estimated"] is bool(ours)

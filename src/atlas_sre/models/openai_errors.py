"""Turn transport failures and error bodies into one sentence a user can act on.

A network failure's real cause often sits a few exceptions deep, and an error body is JSON in one of
several shapes (or HTML); these helpers find the cause or the server's own words and say them plainly.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl

from atlas_sre.models.text import one_line


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it was raised from, outermost first (cycle-safe)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def explain_unreachable(exc: BaseException) -> str:
    """Why a connection failed, in a few words: refused, unknown host, TLS, reset, or the root message."""
    chain = _causes(exc)
    for cause in chain:
        if isinstance(cause, (http.client.RemoteDisconnected, http.client.IncompleteRead)):
            return "the server closed the connection without a complete answer"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not found"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {one_line(str(cause), 120)}"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by the server"
    text = " ".join(str(c) for c in chain).lower()
    for needle, words in (
        ("connection refused", "connection refused"),
        ("name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("temporary failure in name resolution", "host name not found"),
        ("no route to host", "no route to host"),
        ("network is unreachable", "network is unreachable"),
        ("server disconnected", "the server closed the connection without answering"),
        ("remoteprotocolerror", "the server closed the connection without answering"),
    ):
        if needle in text:
            return words
    root = chain[-1]
    detail = one_line(str(root), 160) or type(root).__name__
    return detail if detail.lower() != "connection error." else "connection error"


def server_message(body: bytes) -> str:
    """The server's own explanation from an error body: OpenAI's {"error": {"message"}}, FastAPI's
    {"detail"}, a bare {"message"}, or plain text (one line, clipped)."""
    text = body.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return one_line(text, 200)
    candidates: list[object] = []
    if isinstance(parsed, dict):
        err = parsed.get("error")
        if isinstance(err, dict):
            candidates.append(err.get("message"))
        candidates += [err, parsed.get("message"), parsed.get("detail")]
    else:
        candidates.append(parsed)
    for c in candidates:
        if isinstance(c, str) and c.strip():
            return one_line(c, 200)
        if c not in (None, "") and not isinstance(c, dict):
            return one_line(str(c), 200)
    return one_line(text, 200)


def describe_status(status: int, base_url: str, detail: str, attempts: int) -> str:
    """One sentence for an HTTP error status from the model server."""
    tail = f": {detail}" if detail else ""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if status in (401, 403):
        return (
            f"the model server at {base_url} rejected the API key (HTTP {status}){tail}; "
            f"set ATLAS_SRE_API_KEY or OPENAI_API_KEY"
        )
    if status == 429:
        return f"the model server at {base_url} is rate-limiting requests (HTTP 429){tries}{tail}"
    if status >= 500:
        return f"the model server at {base_url} failed (HTTP {status}){tries}{tail}"
    if status == 413 or "context" in detail.lower():
        return f"the model server at {base_url} refused the request as too long (HTTP {status}){tail}"
    return f"the model server at {base_url} refused the request (HTTP {status}){tail}"

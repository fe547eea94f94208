"""OpenAI-compatible chat over HTTP: OpenAI itself, vLLM, Ollama, llama.cpp's server, LM Studio, ...

The server is untrusted input, so the transport is our own (`http_call`, standard library) rather
than an SDK whose timeouts bound each socket read: `timeout_s` is one deadline for the whole call,
retries and back-off included, and a reply body over `max_reply_bytes` is refused after reading one
byte past the cap. The policy is here too: back-off on 429 and 5xx only (bounded, honouring
Retry-After), usage counts checked for plausibility and counted by us when missing or implausible,
the text cut to what `max_tokens` can hold, and every failure a one-line `ModelError` that says what
to do. The body is parsed here, so a garbled or empty answer is reported as such.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from atlas_sre.models.base import Backend, Completion, ContextExceeded, Message, ModelError, ToolCall, ToolsUnsupported
from atlas_sre.models.http_call import DeadlinePassed, HttpReply, ReplyTooLarge, exchange
from atlas_sre.models.openai_errors import describe_status, explain_unreachable, server_message
from atlas_sre.models.openai_tools import SchemaStyle, read_tool_calls, rejected_feature, response_format
from atlas_sre.models.text import (
    MAX_CHARS_PER_TOKEN,
    cap_reply_text,
    check_messages,
    estimate_prompt_tokens,
    estimate_tokens,
    model_error,
    one_line,
    plausible_count,
)

OPENAI_URL = "https://api.openai.com/v1"
# Local servers (llama.cpp, vLLM, Ollama) accept any key; send a placeholder so proxies that want one are happy.
PLACEHOLDER_KEY = "sk-no-key-required"
REPLY_BYTES_BASE = 64 * 1024
REPLY_BYTES_PER_TOKEN = 256
"""Default reply cap: 64 KiB of envelope plus 256 bytes per requested token, far above any JSON a
`max_tokens` reply needs (a token is at most `MAX_CHARS_PER_TOKEN` characters, escaped)."""
MODEL_LIST_BYTES = 4 * 1024 * 1024
PROMPT_FRAMING_TOKENS = 4096  # chat template and tool rendering a server adds beyond the request's bytes


def reply_byte_cap(max_tokens: int, configured: int | None = None) -> int:
    """The most bytes a reply body may have: `max_reply_bytes` when set, else derived from `max_tokens`."""
    return configured if configured is not None else REPLY_BYTES_BASE + REPLY_BYTES_PER_TOKEN * max_tokens


class OpenAIConfig(BaseModel):
    """How to reach an OpenAI-compatible server. Unset URL/key fall back to the environment."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    base_url: str | None = None
    api_key: str | None = None
    timeout_s: float = Field(default=120.0, gt=0)  # the whole call: connect, retries, back-off, reading
    max_retries: int = Field(default=4, ge=0, le=20)
    backoff_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=20.0, ge=0)
    temperature: float | None = 0.0
    # Newer OpenAI reasoning models accept only `max_completion_tokens`; everything else wants `max_tokens`.
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    extra_body: dict[str, Any] = Field(default_factory=dict)
    max_reply_bytes: int | None = Field(default=None, ge=1024)  # None: 64 KiB + 256 bytes per max_tokens


def resolve_base_url(explicit: str | None = None) -> str:
    """Argument or config, then ATLAS_SRE_BASE_URL, then OPENAI_BASE_URL, then OpenAI itself."""
    url = explicit or os.environ.get("ATLAS_SRE_BASE_URL") or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL
    return url.rstrip("/")


def resolve_api_key(base_url: str, explicit: str | None = None) -> str:
    """Argument or config, then ATLAS_SRE_API_KEY, then OPENAI_API_KEY; a placeholder for non-OpenAI hosts."""
    key = explicit or os.environ.get("ATLAS_SRE_API_KEY") or os.environ.get("OPENAI_API_KEY")
    if key:
        return key
    if "api.openai.com" in base_url:
        raise model_error(f"no API key for {base_url}: set OPENAI_API_KEY or ATLAS_SRE_API_KEY")
    return PLACEHOLDER_KEY


class OpenAIChatModel:
    """A `ChatModel` backed by any server that speaks `/v1/chat/completions`."""

    def __init__(self, config: OpenAIConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.base_url = resolve_base_url(config.base_url)
        self.name = f"openai:{config.model}"
        self._sleep = sleep
        self._headers = {
            "Content-Type": "application/json", "Accept": "application/json", "User-Agent": "atlas-sre",
            "Authorization": f"Bearer {resolve_api_key(self.base_url, config.api_key)}",
        }
        self._schema_style: SchemaStyle = "json_schema"

    def complete(
        self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None,
        tools: list[dict[str, Any]] | None = None, tool_choice: str | dict[str, Any] | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> Completion:
        """Send one chat request (retrying 429/5xx with back-off) and read text, tool calls and usage back.

        `tools`/`tool_choice` go on the wire as given; `json_schema` as OpenAI's `response_format`
        (`json_schema`), or llama.cpp's `json_object` + `schema` once a server has refused the first.
        A server that refuses either raises `ToolsUnsupported`.
        """
        check_messages(messages, max_tokens)
        request: dict[str, Any] = {"model": self.config.model, "messages": messages}
        request[self.config.max_tokens_field] = max_tokens
        if stop:
            request["stop"] = list(stop)
        if self.config.temperature is not None:
            request["temperature"] = self.config.temperature
        if tools:
            request["tools"] = tools
            if tool_choice is not None:
                request["tool_choice"] = tool_choice
        if json_schema is not None:
            request["response_format"] = response_format(json_schema, self._schema_style)
        request.update(self.config.extra_body)  # server-specific fields go into the body itself
        started = time.perf_counter()
        deadline = time.monotonic() + self.config.timeout_s
        cap = reply_byte_cap(max_tokens, self.config.max_reply_bytes)
        body, attempts = self._post_constrained(request, json_schema, deadline, cap)
        latency = time.perf_counter() - started
        return self._to_completion(body, messages, latency, attempts, max_tokens, len(json.dumps(request)))

    def _post_constrained(self, request: dict[str, Any], json_schema: dict[str, Any] | None, deadline: float,
                          cap: int) -> tuple[dict[str, Any], int]:
        """Post; a server that refuses OpenAI's `json_schema` form is asked once in llama.cpp's form
        (within the same deadline), and the form that worked is remembered for this model's later requests."""
        try:
            return self._post_with_retries(request, deadline, cap)
        except ToolsUnsupported as exc:
            if json_schema is None or self._schema_style != "json_schema" or "tools" in request:
                raise
            self._schema_style = "json_object"
            request = {**request, "response_format": response_format(json_schema, "json_object")}
            try:
                return self._post_with_retries(request, deadline, cap)
            except ToolsUnsupported:
                raise exc from None

    def list_models(self, deadline: float | None = None) -> list[str]:
        """Model ids the server offers (`GET /v1/models`), for error messages and `models list`; within
        `min(timeout_s, 10 s)`, or before `deadline` (a chat call's) when that comes first."""
        own = time.monotonic() + min(self.config.timeout_s, 10.0)
        deadline = own if deadline is None else min(own, deadline)
        try:
            reply = self._exchange("GET", "/models", None, deadline, MODEL_LIST_BYTES, 1)
            if reply.status >= 400:
                raise model_error(f"HTTP {reply.status}: {server_message(reply.body)}")
            page = json.loads(reply.body)
            return sorted(str(m["id"]) for m in page["data"])
        except Exception as exc:
            raise model_error(f"cannot list models at {self.base_url}: {exc}") from exc

    def _exchange(self, method: str, path: str, payload: bytes | None, deadline: float, cap: int,
                  attempt: int) -> HttpReply:
        """One HTTP exchange; transport failures become one-line errors (a passed deadline names the budget)."""
        try:
            return exchange(method, self.base_url + path, headers=self._headers, body=payload,
                            deadline=deadline, max_bytes=cap)
        except DeadlinePassed as exc:
            raise self._deadline_error(exc.received, attempt) from None
        except ReplyTooLarge as exc:
            size = f" (it declared {exc.declared} bytes)" if exc.declared is not None else ""
            raise model_error(
                f"model server at {self.base_url} sent a reply larger than {exc.limit} bytes{size}; reading "
                f"stopped there: check the server, or raise max_reply_bytes") from None
        except (OSError, http.client.HTTPException) as exc:
            raise model_error(f"cannot reach model server at {self.base_url}: {explain_unreachable(exc)}") from exc

    def _deadline_error(self, received: int, attempts: int) -> ModelError:
        waited = f"{self.config.timeout_s:g}s"
        if not received:
            tries = f" in {attempts} attempts" if attempts > 1 else ""
            return model_error(f"model server at {self.base_url} did not answer within {waited} (timeout){tries}; "
                               f"check the server or raise timeout_s")
        return model_error(
            f"model server at {self.base_url} did not finish its answer within {waited} (timeout for the whole "
            f"call; {received} bytes had arrived); check the server or raise timeout_s")

    def _post_with_retries(self, request: dict[str, Any], deadline: float, cap: int
                           ) -> tuple[dict[str, Any], int]:
        """Post until a success, a final error, or the deadline: a back-off that would pass the
        deadline is not taken, and the last error is reported instead."""
        payload = json.dumps(request).encode()
        attempt = 0
        while True:
            attempt += 1
            reply = self._exchange("POST", "/chat/completions", payload, deadline, cap, attempt)
            if reply.status < 300:
                return self._parse_body(reply.body.decode("utf-8", errors="replace")), attempt
            status, detail = reply.status, server_message(reply.body)
            rejected = rejected_feature(request, status, detail)
            retriable = (status == 429 or status >= 500) and not rejected
            if retriable and attempt <= self.config.max_retries:
                delay = self._delay(attempt, reply.headers)
                if time.monotonic() + delay < deadline:
                    self._sleep(delay)
                    continue
            if rejected:
                raise ToolsUnsupported(one_line(
                    f"the model server at {self.base_url} does not accept {rejected} (HTTP {status}): {detail}"))
            raise self._status_error(status, detail, attempt, deadline)

    def _delay(self, attempt: int, headers: Any) -> float:
        """Exponential back-off, or the server's Retry-After when it gives one, capped either way."""
        cap = self.config.backoff_max_s
        retry_after = headers.get("retry-after") if headers is not None else None
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), cap)
            except ValueError:
                pass  # an HTTP date: fall back to our own schedule
        return min(self.config.backoff_s * (2 ** (attempt - 1)), cap)

    def _status_error(self, status: int, detail: str, attempts: int, deadline: float) -> ModelError:
        if status in (404, 400) and _is_unknown_model(status, detail):
            return self._unknown_model_error(status, detail, deadline)
        message = describe_status(status, self.base_url, detail, attempts)
        if status == 413 or (status == 400 and "context" in detail.lower()):
            return ContextExceeded(one_line(message))
        return model_error(message)

    def _unknown_model_error(self, status: int, detail: str, deadline: float) -> ModelError:
        """Name the models the server does have; if it can't list any, the URL itself is the suspect."""
        model = self.config.model
        try:
            ids = self.list_models(deadline)
        except ModelError:
            return model_error(
                f"HTTP {status} from {self.base_url} for model '{model}' and its model list is unavailable: "
                f"check the base URL (OpenAI-compatible servers usually end in /v1) and the model name"
                + (f" ({detail})" if detail else "")
            )
        if model in ids:
            return model_error(describe_status(status, self.base_url, detail, 1))
        if not ids:
            return model_error(f"unknown model '{model}' at {self.base_url}: the server lists no models")
        shown = ", ".join(ids[:20]) + (f", … ({len(ids)} in all)" if len(ids) > 20 else "")
        return model_error(f"unknown model '{model}' at {self.base_url}: the server has {shown}")

    def _parse_body(self, text: str) -> dict[str, Any]:
        where = f"model server at {self.base_url}"
        if not text.strip():
            raise model_error(f"{where} sent an empty response")
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise model_error(f"{where} sent a response that is not JSON: {one_line(text, 80)!r}") from exc
        if not isinstance(body, dict):
            raise model_error(
                f"{where} sent JSON that is not a chat completion object: {one_line(text, 80)!r}"
            )
        if "error" in body and "choices" not in body:
            raise model_error(f"{where} answered with an error: {one_line(str(body['error']), 200)}")
        choices = body.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise model_error(f"{where} sent a chat completion without choices: {one_line(text, 80)!r}")
        message = choices[0].get("message")
        if not isinstance(message, dict) or not isinstance(message.get("content", ""), (str, type(None))):
            raise model_error(f"{where} sent a choice without a message: {one_line(text, 80)!r}")
        return body

    def _to_completion(
        self, body: dict[str, Any], messages: list[Message], latency: float, attempts: int, max_tokens: int,
        request_chars: int,
    ) -> Completion:
        choice = body["choices"][0]
        full = choice["message"].get("content") or ""
        calls = read_tool_calls(choice["message"].get("tool_calls"))
        text, cut = cap_reply_text(full, max_tokens)
        calls, calls_cut = _cap_calls(calls, max_tokens * MAX_CHARS_PER_TOKEN - len(text))
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        prompt, completion, ours = _usage(usage, messages, full, calls, max_tokens, request_chars)
        raw: dict[str, Any] = {
            "id": body.get("id"), "usage": usage, "usage_estimated": bool(ours), "attempts": attempts,
            "base_url": self.base_url,
        }
        if ours:
            raw["usage_counted_by_us"] = ours
        if cut or calls_cut:
            raw["reply_chars_cut"] = len(full) - len(text)
        return Completion(
            text=text,
            prompt_tokens=prompt,
            completion_tokens=completion,
            latency_s=latency,
            model=one_line(str(body.get("model") or self.config.model), 200),
            finish_reason="length" if cut or calls_cut else one_line(str(choice.get("finish_reason") or "stop"), 40),
            raw=raw,
            tool_calls=calls,
        )


def _cap_calls(calls: tuple[ToolCall, ...], chars: int) -> tuple[tuple[ToolCall, ...], bool]:
    """Tool calls whose arguments fit in `chars` characters together (the text's leftover budget)."""
    kept: list[ToolCall] = []
    cut = False
    for call in calls:
        room = max(chars, 0)
        if len(call.arguments) > room:
            call, cut = ToolCall(call.id, call.name, call.arguments[:room]), True
        chars -= len(call.arguments)
        kept.append(call)
    return tuple(kept), cut


def _usage(usage: dict[str, Any], messages: list[Message], text: str, calls: tuple[ToolCall, ...],
           max_tokens: int, request_chars: int) -> tuple[int, int, list[str]]:
    """Prompt and completion tokens: the server's counts where plausible, else our estimates.

    A server's count is implausible below the fewest tokens its text can be (`MAX_CHARS_PER_TOKEN`
    characters each) or above the most it could be (a reply: `max_tokens`, or our estimate when the
    server overran it; a prompt: one per request byte plus the template's framing). Budgets then
    hold against a server that under-reports, and a wild count cannot swamp the totals.
    Returns the counts and the names of those we counted ourselves.
    """
    said = text or " ".join(f"{c.name} {c.arguments}" for c in calls)  # a call costs its arguments
    ours_completion = estimate_tokens(said)
    completion = plausible_count(usage.get("completion_tokens"), math.ceil(len(said) / MAX_CHARS_PER_TOKEN),
                                 max(max_tokens, ours_completion))
    content_chars = sum(len(m.get("content") or "") for m in messages)
    prompt = plausible_count(usage.get("prompt_tokens"), math.ceil(content_chars / MAX_CHARS_PER_TOKEN),
                             request_chars + PROMPT_FRAMING_TOKENS)
    ours = [name for name, value in (("prompt_tokens", prompt), ("completion_tokens", completion)) if value is None]
    return (prompt if prompt is not None else estimate_prompt_tokens(messages),
            completion if completion is not None else ours_completion, ours)


def _is_unknown_model(status: int, detail: str) -> bool:
    """404 is the usual answer for a model the server lacks; some servers say it with a 400."""
    if status == 404:
        return True
    low = detail.lower()
    return "model" in low and any(w in low for w in ("not exist", "not found", "unknown", "does not exist"))


_AT_URL = re.compile(r"^(?P<model>.+?)@(?P<url>https?://\S+)$")


def _spec_fields(rest: str) -> dict[str, Any]:
    """`MODEL` or `MODEL@URL` (model names may hold slashes, colons and @; the URL is the last @...)."""
    match = _AT_URL.match(rest)
    if match:
        return {"model": match["model"], "base_url": match["url"]}
    if "@" in rest:
        raise model_error(f"'openai:{rest}': the part after @ must be a URL such as http://127.0.0.1:8000/v1")
    return {"model": rest}


BACKEND = Backend(
    "openai", OpenAIConfig, _spec_fields, OpenAIChatModel, "openai:gpt-4o-mini",
    listed=("openai:gpt-4o-mini", "openai:MODEL@http://host:port/v1"),
)

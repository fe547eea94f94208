"""OpenAI-compatible chat over HTTP: OpenAI itself, vLLM, Ollama, llama.cpp's server, LM Studio, ...

Uses the `openai` SDK for transport but owns the policy: the SDK's retries are switched off so the
back-off here (429 and 5xx only, bounded, honouring Retry-After) is the only one, and every failure
becomes a one-line `ModelError` that says what to do. The response body is parsed here rather than
by the SDK, so a garbled or empty answer is reported as such instead of surfacing as an attribute error.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from atlas_sre.models.base import Backend, Completion, Message, ModelError, ToolsUnsupported
from atlas_sre.models.openai_errors import describe_status, explain_unreachable, server_message
from atlas_sre.models.openai_tools import SchemaStyle, read_tool_calls, rejected_feature, response_format
from atlas_sre.models.text import (
    check_messages,
    estimate_prompt_tokens,
    estimate_tokens,
    model_error,
    one_line,
)

OPENAI_URL = "https://api.openai.com/v1"
# Local servers (llama.cpp, vLLM, Ollama) accept any key; the SDK refuses to start without one.
PLACEHOLDER_KEY = "sk-no-key-required"


class OpenAIConfig(BaseModel):
    """How to reach an OpenAI-compatible server. Unset URL/key fall back to the environment."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    base_url: str | None = None
    api_key: str | None = None
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    backoff_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=20.0, ge=0)
    temperature: float | None = 0.0
    # Newer OpenAI reasoning models accept only `max_completion_tokens`; everything else wants `max_tokens`.
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    extra_body: dict[str, Any] = Field(default_factory=dict)


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
        try:
            import openai
        except ImportError as exc:  # a core dependency, but be kind to broken environments
            raise model_error(
                "the OpenAI-compatible backend needs the 'openai' package: pip install openai"
            ) from exc
        self.config = config
        self.base_url = resolve_base_url(config.base_url)
        self.name = f"openai:{config.model}"
        self._openai = openai
        self._sleep = sleep
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=resolve_api_key(self.base_url, config.api_key),
            timeout=config.timeout_s,
            max_retries=0,
        )
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
        if self.config.extra_body:
            request["extra_body"] = self.config.extra_body
        started = time.perf_counter()
        body, attempts = self._post_constrained(request, json_schema)
        latency = time.perf_counter() - started
        return self._to_completion(body, messages, latency, attempts)

    def _post_constrained(self, request: dict[str, Any], json_schema: dict[str, Any] | None
                          ) -> tuple[dict[str, Any], int]:
        """Post; a server that refuses OpenAI's `json_schema` form is asked once in llama.cpp's form,
        and the form that worked is remembered for this model's later requests."""
        try:
            return self._post_with_retries(request)
        except ToolsUnsupported as exc:
            if json_schema is None or self._schema_style != "json_schema" or "tools" in request:
                raise
            self._schema_style = "json_object"
            request = {**request, "response_format": response_format(json_schema, "json_object")}
            try:
                return self._post_with_retries(request)
            except ToolsUnsupported:
                raise exc from None

    def list_models(self) -> list[str]:
        """Model ids the server offers (`GET /v1/models`), for error messages and `models list`."""
        try:
            page = self._client.models.list(timeout=min(self.config.timeout_s, 10.0))
            return sorted(str(m.id) for m in page.data)
        except Exception as exc:
            raise model_error(f"cannot list models at {self.base_url}: {exc}") from exc

    def _post_with_retries(self, request: dict[str, Any]) -> tuple[dict[str, Any], int]:
        oa = self._openai
        attempt = 0
        while True:
            attempt += 1
            try:
                raw = self._client.chat.completions.with_raw_response.create(**request)
                return self._parse_body(raw.text), attempt
            except oa.APITimeoutError as exc:
                waited = f"{self.config.timeout_s:g}s"
                raise model_error(
                    f"model server at {self.base_url} did not answer within {waited} (timeout); "
                    f"check the server or raise timeout_s"
                ) from exc
            except oa.APIConnectionError as exc:
                raise model_error(
                    f"cannot reach model server at {self.base_url}: {explain_unreachable(exc)}"
                ) from exc
            except oa.APIStatusError as exc:
                status = exc.status_code
                rejected = rejected_feature(request, status, server_message(exc))
                retriable = (status == 429 or status >= 500) and not rejected
                if retriable and attempt <= self.config.max_retries:
                    self._sleep(self._delay(attempt, exc.response.headers))
                    continue
                if rejected:
                    raise ToolsUnsupported(one_line(
                        f"the model server at {self.base_url} does not accept {rejected} "
                        f"(HTTP {status}): {server_message(exc)}")) from exc
                raise self._status_error(exc, attempt) from exc

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

    def _status_error(self, exc: Any, attempts: int) -> ModelError:
        status = exc.status_code
        detail = server_message(exc)
        if status in (404, 400) and _is_unknown_model(status, detail):
            return self._unknown_model_error(status, detail)
        return model_error(describe_status(status, self.base_url, detail, attempts))

    def _unknown_model_error(self, status: int, detail: str) -> ModelError:
        """Name the models the server does have; if it can't list any, the URL itself is the suspect."""
        model = self.config.model
        try:
            ids = self.list_models()
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
        self, body: dict[str, Any], messages: list[Message], latency: float, attempts: int
    ) -> Completion:
        choice = body["choices"][0]
        text = choice["message"].get("content") or ""
        calls = read_tool_calls(choice["message"].get("tool_calls"))
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        prompt = usage.get("prompt_tokens")
        completion = usage.get("completion_tokens")
        estimated = not (isinstance(prompt, int) and isinstance(completion, int))
        if estimated:
            prompt = prompt if isinstance(prompt, int) else estimate_prompt_tokens(messages)
            said = text or " ".join(f"{c.name} {c.arguments}" for c in calls)  # a call costs its arguments
            completion = completion if isinstance(completion, int) else estimate_tokens(said)
        return Completion(
            text=text,
            prompt_tokens=prompt,
            completion_tokens=completion,
            latency_s=latency,
            model=str(body.get("model") or self.config.model),
            finish_reason=str(choice.get("finish_reason") or "stop"),
            raw={
                "id": body.get("id"),
                "usage": usage,
                "usage_estimated": estimated,
                "attempts": attempts,
                "base_url": self.base_url,
            },
            tool_calls=calls,
        )


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

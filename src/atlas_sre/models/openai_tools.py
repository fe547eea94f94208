"""The wire details of native tool calls and JSON-schema replies for OpenAI-compatible servers.

Servers differ here more than anywhere else: OpenAI and vLLM take `response_format` of type
`json_schema`, llama.cpp's Python server only `json_object` with a `schema` beside it; a server
without tool support answers 400 (vLLM, Ollama), 422 (a strict request schema) or 500. These helpers
keep that knowledge out of the transport code, and let a refusal be told apart from other errors.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from atlas_sre.models.base import ToolCall

SchemaStyle = Literal["json_schema", "json_object"]

_TOOL_WORDS = ("tool", "function")
_SCHEMA_WORDS = ("response_format", "json_schema", "schema", "grammar", "json_object")


def response_format(schema: dict[str, Any], style: SchemaStyle) -> dict[str, Any]:
    """`response_format` constraining the reply to `schema`, in OpenAI's form or llama.cpp's."""
    if style == "json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": False}}


def rejected_feature(request: dict[str, Any], status: int, detail: str) -> str | None:
    """What the server refused when an error status is about tools or a schema we sent, else None.

    Only a refusal that names the feature counts (or 501, Not Implemented): a 400 for an over-long
    prompt must stay that error, not silently switch protocols.
    """
    if status == 429 or status < 400:
        return None
    low = detail.lower()
    if "tools" in request and (status == 501 or any(w in low for w in _TOOL_WORDS)):
        return "tool calls"
    if "response_format" in request and (status == 501 or any(w in low for w in _SCHEMA_WORDS)):
        return "a JSON schema (response_format)"
    return None


def read_tool_calls(raw: Any) -> tuple[ToolCall, ...]:
    """`message.tool_calls` as `ToolCall`s; entries without a function name are skipped, missing ids
    are numbered (some local servers omit them), dict arguments (Ollama) are re-encoded as JSON."""
    if not isinstance(raw, list):
        return ()
    calls = []
    for i, item in enumerate(raw):
        fn = item.get("function") if isinstance(item, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            continue
        args = fn.get("arguments")
        if not isinstance(args, str):
            args = "{}" if args is None else json.dumps(args, ensure_ascii=False)
        calls.append(ToolCall(str(item.get("id") or f"call_{i}"), fn["name"], args))
    return tuple(calls)


"""The one chat-model protocol every backend implements, and its result and error types.

Messages in, text plus token usage out, `max_tokens` honoured. Agents depend on this protocol
only, never on a backend, so a reference agent, a scripted test double, a llama.cpp server and
OpenAI are interchangeable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

Message = dict[str, Any]
"""{"role": "system" | "user" | "assistant", "content": str}; with native tool calls an assistant message
may also carry `tool_calls` (OpenAI's wire form) and a `{"role": "tool", "tool_call_id", "content"}`
message carries a tool's result."""


class ModelError(RuntimeError):
    """A backend failure with a one-line, user-readable message (unreachable, bad key, unknown model)."""


class ContextExceeded(ModelError):
    """The request does not fit the model's context window (a one-line reason from the backend).

    A distinct type so a caller that can shorten its request (an agent dropping older command output)
    retries with less instead of ending the investigation on an error.
    """


class ToolsUnsupported(ModelError):
    """The backend or server cannot honour `tools` or `json_schema` (a one-line reason).

    A distinct type so a caller offering tools opportunistically (`--tool-mode auto`) can fall back
    to the text protocol on exactly this failure and still stop on every other one.
    """


@dataclass(frozen=True)
class ToolCall:
    """One native tool call as the server sent it: `arguments` is the JSON text, unparsed (a small
    model's arguments may be invalid JSON, and the caller decides what that means)."""

    id: str
    name: str
    arguments: str

    def to_wire(self) -> dict[str, Any]:
        """The OpenAI form an assistant message repeats when the conversation is sent again."""
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


@dataclass
class Completion:
    """One model answer and what it cost, as the backend itself counted it."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    model: str = ""
    finish_reason: str = "stop"
    raw: dict[str, object] = field(default_factory=dict)
    tool_calls: tuple[ToolCall, ...] = ()  # native tool calls; empty unless `tools` were offered

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@runtime_checkable
class ChatModel(Protocol):
    """What agents call. `name` identifies the model in traces and reports."""

    name: str

    def complete(self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None,
                 tools: list[dict[str, Any]] | None = None, tool_choice: str | dict[str, Any] | None = None,
                 json_schema: dict[str, Any] | None = None) -> Completion:
        """Answer `messages` with at most `max_tokens` completion tokens.

        `tools` (OpenAI function-tool definitions) and `tool_choice` offer native tool calls, returned
        in `Completion.tool_calls`; `json_schema` constrains the reply text to that schema. A backend
        that cannot honour either raises `ToolsUnsupported`; without them every backend behaves as
        it always did.
        """
        ...


@dataclass(frozen=True)
class Backend:
    """One spec scheme (`scheme:rest`): its config, how `rest` fills it, and how to build the model.

    Each backend module declares its own as `BACKEND`, next to the model class; `spec.BACKENDS`
    lists those, so registering a backend is one line there.
    """

    scheme: str
    config: type[BaseModel]
    fields: Callable[[str], dict[str, Any]]
    build: Callable[[Any], ChatModel]
    example: str  # shown when a spec names no model ("e.g. openai:gpt-4o-mini")
    listed: tuple[str, ...] = ()  # shown, in registry order, when a spec's scheme is unknown

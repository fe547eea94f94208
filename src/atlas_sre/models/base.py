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

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}


class ModelError(RuntimeError):
    """A backend failure with a one-line, user-readable message (unreachable, bad key, unknown model)."""


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

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@runtime_checkable
class ChatModel(Protocol):
    """What agents call. `name` identifies the model in traces and reports."""

    name: str

    def complete(self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None) -> Completion:
        """Answer `messages` with at most `max_tokens` completion tokens."""
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

"""The one chat-model protocol every backend implements, and its result and error types.

Messages in, text plus token usage out, `max_tokens` honoured. Agents depend on this protocol
only, never on a backend, so a reference agent, a scripted test double, a llama.cpp server and
OpenAI are interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

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

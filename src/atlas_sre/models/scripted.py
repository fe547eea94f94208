"""A test double that answers from a script and remembers what it was asked.

Tests of agents and of the protocol need a model whose answers they choose and whose requests they
can inspect (did the probe really ask for 50 tokens?). Users testing their own agents need the same.
Token counts are whitespace words, so budgets are deterministic and easy to reason about. A scripted
output may be a `ToolCall`, answered as a native tool call when the request offered tools.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from atlas_sre.models.base import Completion, Message, ToolCall
from atlas_sre.models.text import apply_stop, check_messages, model_error, truncate_words, word_tokens

Responder = Callable[[list[Message]], "str | ToolCall"]


class ScriptedConfig(BaseModel):
    """Options of the scripted model (the script itself is passed as an object, not configured)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "scripted"
    cycle: bool = False


@dataclass(frozen=True)
class ScriptedCall:
    """One request the scripted model received, copied so later mutation by the caller can't change it."""

    messages: list[Message]
    max_tokens: int
    stop: list[str] | None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    json_schema: dict[str, Any] | None = None

    @property
    def last_user(self) -> str:
        """The last user message: what most assertions want to look at."""
        users = [m["content"] for m in self.messages if m.get("role") == "user"]
        return users[-1] if users else ""


@dataclass
class ScriptedModel:
    """Returns `outputs` in order (or what a callable returns), honouring `max_tokens` and `stop`.

    With a list, running out of outputs is an error (a test asked more than it scripted) unless
    `cycle=True`. Every call is recorded in `calls`.
    """

    outputs: Sequence[str | ToolCall] | Responder
    name: str = "scripted"
    cycle: bool = False
    calls: list[ScriptedCall] = field(default_factory=list)
    _next: int = 0

    def complete(
        self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None,
        tools: list[dict[str, Any]] | None = None, tool_choice: str | dict[str, Any] | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> Completion:
        """Answer with the next scripted text, cut at `stop` and to `max_tokens` whitespace tokens.

        `tools`, `tool_choice` and `json_schema` are recorded, not enforced (the script decides what
        comes back); a scripted `ToolCall` is returned as a native call, which needs `tools`.
        """
        check_messages(messages, max_tokens)
        self.calls.append(
            ScriptedCall(copy.deepcopy(list(messages)), max_tokens, list(stop) if stop else None,
                         copy.deepcopy(tools), copy.deepcopy(tool_choice), copy.deepcopy(json_schema))
        )
        scripted = self._script_text(messages)
        if isinstance(scripted, ToolCall):
            return self._tool_completion(scripted, messages, tools)
        raw_text = scripted
        text, stopped = apply_stop(raw_text, stop)
        text, cut = truncate_words(text, max_tokens)
        prompt_tokens = sum(len(word_tokens(m.get("content") or "")) for m in messages)
        return Completion(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(word_tokens(text)),
            latency_s=0.0,
            model=self.name,
            finish_reason="length" if cut else "stop",
            raw={"scripted_index": len(self.calls) - 1, "stopped_at_stop": stopped, "untruncated": raw_text},
        )

    def _tool_completion(self, call: ToolCall, messages: list[Message],
                         tools: list[dict[str, Any]] | None) -> Completion:
        if not tools:
            raise model_error(f"scripted tool call {call.name!r} but the request offered no tools")
        return Completion(
            text="",
            prompt_tokens=sum(len(word_tokens(m.get("content") or "")) for m in messages),
            completion_tokens=len(word_tokens(call.arguments)) + 1,
            latency_s=0.0,
            model=self.name,
            finish_reason="tool_calls",
            raw={"scripted_index": len(self.calls) - 1},
            tool_calls=(call,),
        )

    def _script_text(self, messages: list[Message]) -> str | ToolCall:
        if callable(self.outputs):
            answer = self.outputs(copy.deepcopy(list(messages)))
            if not isinstance(answer, (str, ToolCall)):
                raise model_error(f"scripted responder returned {type(answer).__name__}, expected str")
            return answer
        if not self.outputs:
            raise model_error("scripted model has no outputs to give")
        if self._next >= len(self.outputs):
            if not self.cycle:
                raise model_error(
                    f"scripted model ran out of outputs: call {self._next + 1} but only "
                    f"{len(self.outputs)} scripted (pass cycle=True to repeat them)"
                )
            self._next = 0
        text = self.outputs[self._next]
        self._next += 1
        return text

    @property
    def remaining(self) -> int:
        """Outputs not yet used (0 for a callable script)."""
        return 0 if callable(self.outputs) else max(len(self.outputs) - self._next, 0)

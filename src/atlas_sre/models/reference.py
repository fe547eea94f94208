"""A marker for the built-in rule-based agents (`reference:student`, `reference:teacher`).

The reference agents are code, not language models, so there is nothing to chat with. Letting them
travel through the same `ChatModel` slot keeps one API (`student_model="reference:student"`, the
offline default), and the agents room dispatches on `is_reference()` to pick its rule-based
implementation. Calling `complete` on one is a wiring bug, reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from atlas_sre.models.base import Completion, Message
from atlas_sre.models.text import model_error

Role = Literal["student", "teacher"]
ROLES: tuple[Role, ...] = ("student", "teacher")


class ReferenceConfig(BaseModel):
    """Which built-in agent the marker stands for."""

    model_config = ConfigDict(extra="forbid")

    role: Role


@dataclass(frozen=True)
class ReferenceModel:
    """Stands for a built-in rule-based agent; `name` is its spec string (`reference:student`)."""

    role: Role

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise model_error(f"unknown reference role {self.role!r}: valid roles are {', '.join(ROLES)}")

    @property
    def name(self) -> str:
        return f"reference:{self.role}"

    def complete(
        self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None
    ) -> Completion:
        """Always fails: a reference agent is rule-based and must be run by the agents room, not prompted."""
        raise model_error(
            f"{self.name} is the built-in rule-based {self.role}, not a language model, so it does not chat; "
            f"run it through the agents (they dispatch on reference models) or pass an LLM spec such as "
            f"openai:MODEL or llamacpp:qwen2.5-coder-0.5b"
        )


def is_reference(model: object, role: Role | None = None) -> bool:
    """True for a reference marker (optionally of the given role)."""
    return isinstance(model, ReferenceModel) and (role is None or model.role == role)

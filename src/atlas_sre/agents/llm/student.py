"""A student backed by any `ChatModel`: plans from a prompt, then acts one reply per loop step.

Everything it says comes from the model; this class only fills templates and counts usage as the
backend reported it. Output parsing is the loop's (`parsing.parse_action`), shared with every
student, so format errors are handled in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

from atlas_sre.agents.prompting import capsule_block, guidance_block, opening_messages, render
from atlas_sre.agents.types import Action, Briefing, CapsuleBrief, Incident, PlanResult, Usage
from atlas_sre.models.base import ChatModel, Completion, Message

ELIDED_HEAD_CHARS = 400


def usage_of(completion: Completion) -> Usage:
    """The backend's own token counts and latency."""
    return Usage(completion.prompt_tokens, completion.completion_tokens, completion.latency_s)


def context_chars(model: ChatModel, reply_tokens: int) -> int | None:
    """A character budget for the request when the backend states its context window (`config.n_ctx`).

    About 3 characters per token on kubectl output, minus room for the reply; None when unknown.
    """
    n_ctx = getattr(getattr(model, "config", None), "n_ctx", None)
    return max(2000, (int(n_ctx) - reply_tokens) * 3) if isinstance(n_ctx, int) else None


def compact(messages: list[Message], max_chars: int | None) -> list[Message]:
    """Shorten the oldest observations (to their first lines) until the request fits `max_chars`.

    The trajectory keeps every byte; only what is sent shrinks, oldest first, never the system
    prompt, the task or the latest observation, so small-context models keep working.
    """
    if max_chars is None or sum(len(m["content"]) for m in messages) <= max_chars:
        return messages
    out = [dict(m) for m in messages]
    total = sum(len(m["content"]) for m in out)
    for i in range(2, len(out) - 1):
        m = out[i]
        if m["role"] != "user" or len(m["content"]) <= ELIDED_HEAD_CHARS + 80:
            continue
        short = m["content"][:ELIDED_HEAD_CHARS].rstrip() + "\n… [older output elided to save context]\n```"
        total -= len(m["content"]) - len(short)
        m["content"] = short
        if total <= max_chars:
            break
    return out


class LLMStudent:
    """`plan` (≤ `plan_token_limit` tokens) and `act` (≤ `reply_token_limit` per reply) through `model`."""

    def __init__(self, model: ChatModel, *, plan_token_limit: int = 300, reply_token_limit: int = 768,
                 max_steps: int = 20) -> None:
        self.model = model
        self.name = model.name
        self.plan_token_limit = plan_token_limit
        self.reply_token_limit = reply_token_limit
        self.max_steps = max_steps

    def plan(self, incident: Incident, capsules: Sequence[CapsuleBrief] = (),
             guidance: str | None = None) -> PlanResult:
        """The investigation plan; with `guidance`, the plan revised to follow the teacher."""
        messages: list[Message] = [
            {"role": "system", "content": render("student_plan_system")},
            {"role": "user", "content": render("student_plan", incident=incident.text(),
                                               capsule_block=capsule_block(capsules),
                                               guidance_block=guidance_block(guidance))},
        ]
        completion = self.model.complete(messages, max_tokens=self.plan_token_limit)
        return PlanResult(completion.text.strip(), usage_of(completion))

    def start(self, briefing: Briefing) -> list[Message]:
        """System rules, then the task: incident, own plan, teacher guidance, applied capsules."""
        return opening_messages(briefing, self.max_steps)

    def act(self, messages: list[Message]) -> Action:
        """The model's next reply, unparsed (the loop parses it)."""
        request = compact(messages, context_chars(self.model, self.reply_token_limit))
        completion = self.model.complete(request, max_tokens=self.reply_token_limit)
        return Action(completion.text, usage_of(completion), completion.finish_reason)

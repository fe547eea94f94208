"""A student backed by any `ChatModel`: plans from a prompt, then acts one reply per loop step.

Everything it says comes from the model; this class only fills templates and counts usage as the
backend reported it. Output parsing is the loop's (`parsing.parse_action`), shared with every
student, so format errors are handled in one place. `tool_mode` chooses how a reply is asked for
(`tools.TOOL_MODES`): native tool calls and schema-constrained JSON are rewritten into the text
protocol's reply by `tools`, so the loop never knows which was used.
"""

from __future__ import annotations

from collections.abc import Sequence

from atlas_sre.agents.exceptions import FormatError, Submitted
from atlas_sre.agents.fences import clip_block
from atlas_sre.agents.llm.tools import (
    TOOL_MODES,
    CallLog,
    action_schema,
    calls_text,
    constrained_text,
    diagnosis_schema,
    student_tools,
    text_calls,
    wire_messages,
    with_system_note,
)
from atlas_sre.agents.parsing import final_diagnosis_schema, parse_action
from atlas_sre.agents.prompting import capsule_block, guidance_block, opening_messages, render
from atlas_sre.agents.types import Action, Briefing, CapsuleBrief, Incident, PlanResult, Usage
from atlas_sre.models.base import ChatModel, Completion, ContextExceeded, Message, ToolsUnsupported

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


def compact(messages: list[Message], max_chars: int | None, *, keep_latest: bool = True) -> list[Message]:
    """Shorten the oldest observations (to their first lines) until the request fits `max_chars`.

    The trajectory keeps every byte; only what is sent shrinks, oldest first, never the system
    prompt or the task, and the latest observation only when `keep_latest` is off (the retry after a
    backend said the request does not fit), so small-context models keep working.
    """
    if max_chars is None or sum(len(m["content"]) for m in messages) <= max_chars:
        return messages
    out = [dict(m) for m in messages]
    total = sum(len(m["content"]) for m in out)
    for i in range(2, len(out) - (1 if keep_latest else 0)):
        m = out[i]
        if m["role"] != "user" or len(m["content"]) <= ELIDED_HEAD_CHARS + 80:
            continue
        short = clip_block(m["content"], ELIDED_HEAD_CHARS, "… [older output elided to save context]")
        total -= len(m["content"]) - len(short)
        m["content"] = short
        if total <= max_chars:
            break
    return out


def squeezed(messages: list[Message], max_chars: int | None) -> list[Message]:
    """The retry's request after a backend's `ContextExceeded`: half the characters of the first try
    (or of the whole request, when no window is known), the latest observation shortened as well."""
    sent = sum(len(m["content"]) for m in compact(messages, max_chars))
    return compact(messages, sent // 2, keep_latest=False)


def ran_commands(messages: list[Message]) -> list[str]:
    """The commands the student's own replies asked for so far, in order, each once."""
    out: list[str] = []
    for m in messages:
        if m["role"] != "assistant":
            continue
        try:
            command = parse_action(m["content"])
        except (FormatError, Submitted):
            continue
        if command not in out:
            out.append(command)
    return out


def with_ran_reminder(request: list[Message], messages: list[Message]) -> list[Message]:
    """`request` plus a trailing reminder of the commands already run (not kept in the trajectory).

    Why: small models tend to echo their last command once after each observation (qwen2.5-coder-1.5b
    did so after every command). A trailing message keeps every earlier message, and so a local
    backend's cached prompt prefix, unchanged: only the reminder itself is new to read.
    """
    ran = ran_commands(messages)
    if not ran:
        return request
    return [*request, {"role": "user", "content": render("student_ran", commands="; ".join(f"`{c}`" for c in ran))}]


class LLMStudent:
    """`plan` (≤ `plan_token_limit` tokens) and `act` (≤ `reply_token_limit` per reply) through `model`."""

    copies_commands = True
    """A model runs the commands it is shown rather than translating prose into them: a teacher that can
    name each check's exact command does so for it (`ReferenceTeacher.name_commands`)."""

    def __init__(self, model: ChatModel, *, plan_token_limit: int = 300, reply_token_limit: int = 768,
                 max_steps: int = 20, tool_mode: str = "auto") -> None:
        if tool_mode not in TOOL_MODES:
            raise ValueError(f"unknown tool mode {tool_mode!r}: valid modes are {', '.join(TOOL_MODES)}")
        self.model = model
        self.name = model.name
        self.plan_token_limit = plan_token_limit
        self.reply_token_limit = reply_token_limit
        self.max_steps = max_steps
        self.tool_mode = tool_mode
        self.tools_refused = False  # `auto` remembers a server's refusal and stops offering tools
        self._calls: CallLog = {}

    @property
    def reply_mode(self) -> str:
        """How the next reply is asked for: `native`, `constrained` or `text` (`auto` resolved)."""
        if self.tool_mode == "auto":
            native = self.model.name.startswith("openai:") and not self.tools_refused
            return "native" if native else "text"
        return self.tool_mode

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
        self._calls = {}
        return opening_messages(briefing, self.max_steps)

    def act(self, messages: list[Message]) -> Action:
        """The model's next reply, unparsed (the loop parses it); a tool call or a constrained JSON
        reply arrives here already rewritten as the text protocol's reply.

        The request is compacted to the context window by a characters-per-token estimate; output
        such as YAML packs fewer characters into a token, so when the backend still says the request
        does not fit, it is sent once more with half the characters, the latest output shortened too.
        """
        try:
            return self._act(compact(messages, context_chars(self.model, self.reply_token_limit)), messages)
        except ContextExceeded:
            return self._act(squeezed(messages, context_chars(self.model, self.reply_token_limit)), messages)

    def _act(self, request: list[Message], messages: list[Message]) -> Action:
        mode = self.reply_mode
        if mode != "native":
            request = with_ran_reminder(request, messages)
        if mode == "native":
            try:
                return self._act_native(request, len(messages))
            except ToolsUnsupported:
                if self.tool_mode != "auto":
                    raise
                self.tools_refused = True  # detected once: every later reply uses the text protocol
        if mode == "constrained":
            completion = self.model.complete(with_system_note(request, render("student_constrained")),
                                             max_tokens=self.reply_token_limit, json_schema=action_schema())
            return Action(constrained_text(completion.text), usage_of(completion), completion.finish_reason)
        completion = self.model.complete(request, max_tokens=self.reply_token_limit)
        return Action(completion.text, usage_of(completion), completion.finish_reason)

    def _act_native(self, request: list[Message], index: int) -> Action:
        """Offer the tools; a call becomes a fenced block, logged so the next request can send it back
        as `tool_calls` with the loop's next message as its `tool` result."""
        wire = with_system_note(wire_messages(request, self._calls), render("student_tools"))
        completion = self.model.complete(wire, max_tokens=self.reply_token_limit, tools=student_tools(),
                                         tool_choice="auto")
        calls = completion.tool_calls or text_calls(completion.text)
        if not calls:
            return Action(completion.text, usage_of(completion), completion.finish_reason)
        text = calls_text(calls)
        self._calls[index] = (text, calls)
        return Action(text, usage_of(completion), completion.finish_reason)

    def final_answer(self, messages: list[Message]) -> Action:
        """The diagnosis alone, after a limit stopped the commands (the loop's final turn).

        Constrained to the diagnosis schema where the backend can (tightened to the entity-name and
        category forms the grader reads: `parsing.final_diagnosis_schema`), so a small model cannot
        answer with one more command; a backend that refuses schemas is asked in plain text.
        """
        try:
            return self._final(compact(messages, context_chars(self.model, self.reply_token_limit)))
        except ContextExceeded:
            return self._final(squeezed(messages, context_chars(self.model, self.reply_token_limit)))

    def _final(self, request: list[Message]) -> Action:
        if self.reply_mode == "constrained":
            # The same system note as every constrained reply: the prompt then starts exactly as the
            # last one did, so a local backend reuses its cached prefix instead of re-reading it all.
            request = with_system_note(request, render("student_constrained"))
        try:
            completion = self.model.complete(request, max_tokens=self.reply_token_limit,
                                             json_schema=final_diagnosis_schema(diagnosis_schema()))
        except ToolsUnsupported:
            completion = self.model.complete(request, max_tokens=self.reply_token_limit)
        return Action(completion.text, usage_of(completion), completion.finish_reason)

"""Native tool calls and schema-constrained replies, translated to and from the text protocol.

The loop has one parser (`parsing.parse_action`) and one message list of user/assistant turns, and
both stay as they are: a tool call or a constrained JSON reply is rewritten here into the reply the
text protocol would have had (one ```bash``` block, or the diagnosis in a ```json``` block), so
policy, redaction, refusals, repetition and format errors apply exactly as for any other student.
Only what is *sent* changes: `wire_messages` turns an assistant turn that came from a tool call back
into the server's `tool_calls` form and the loop's next message into the `tool` result for that call.
"""

from __future__ import annotations

import json
import re
from typing import Any

from atlas_sre.agents.fences import fence_for
from atlas_sre.agents.parsing import final_diagnosis_schema
from atlas_sre.grading.schema import diagnosis_schema as diagnosis_schema
from atlas_sre.models.base import Message, ToolCall

KUBECTL, ANALYZE, SUBMIT = "kubectl", "analyze", "submit_diagnosis"
TOOL_MODES = ("auto", "native", "text", "constrained")
"""`auto`: native tool calls for `openai:` models (text once a server refuses them), text for the rest;
`native`: always offer tools; `text`: the fenced-block protocol only; `constrained`: every reply is
sampled under the action JSON schema (llama.cpp in-process or a llama.cpp/vLLM server)."""

_RUNNABLE = ("kubectl", "analyze")
# Tool calls already rewritten, by the index their assistant message has in the loop's list.
CallLog = dict[int, tuple[str, tuple[ToolCall, ...]]]


def _closed(node: Any) -> Any:
    """Every object schema with `additionalProperties: false`: a grammar built from an open schema
    lets a small model wander off into invented keys until the token budget cuts the JSON."""
    if isinstance(node, dict):
        out = {k: _closed(v) for k, v in node.items()}
        if out.get("type") == "object" and "properties" in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_closed(v) for v in node]
    return node


def _function(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


def student_tools() -> list[dict[str, Any]]:
    """The three tools a student is offered: a read-only command, the analyzer, the diagnosis."""
    command = {"type": "object", "required": ["command"], "properties": {"command": {
        "type": "string", "description": "one read-only kubectl command line; | grep, head, tail, wc or jq "
        "filters may follow on the same line"}}}
    args = {"type": "object", "properties": {"args": {
        "type": "string", "description": "analyzer arguments, e.g. -A or -n NAMESPACE"}}}
    return [
        _function(KUBECTL, "Run one read-only kubectl command and see its output.", command),
        _function(ANALYZE, "Run the mesh and workload analyzer (like istioctl analyze).", args),
        _function(SUBMIT, "Submit the final root-cause diagnosis once the evidence proves it.",
                  diagnosis_schema()),
    ]


def action_schema() -> dict[str, Any]:
    """What a constrained reply must be: `{"command": "..."}` or `{"diagnosis": {...}}`, nothing else.

    The command is one JSON string, so it cannot hold a raw newline; whether it is allowed (writes,
    pipes into other programs) is still the command layer's decision, as for every reply.
    """
    command = {"type": "object", "required": ["command"], "properties": {"command": {"type": "string"}}}
    # The graded forms (`namespace/Kind/name`, one of the five categories), as in the final turn: measured
    # on qwen2.5-coder-1.5b, the plain schema let an in-loop answer name `shop/reviews`, which matches nothing.
    graded = final_diagnosis_schema(diagnosis_schema())
    diagnosis = {"type": "object", "required": ["diagnosis"], "properties": {"diagnosis": graded}}
    return _closed({"anyOf": [command, diagnosis]})  # type: ignore[no-any-return]


def _block(tag: str, body: str) -> str:
    """A fenced block the body cannot close (a command may hold ```, e.g. in a grep pattern)."""
    fence = fence_for(body)
    return f"{fence}{tag}\n{body}\n{fence}"


def _arguments(call: ToolCall) -> dict[str, Any] | None:
    try:
        args = json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        return None
    return args if isinstance(args, dict) else None


def _command_line(text: str, tool: str) -> str:
    """A command as the model wrote it, with the tool's name put in front when it left it out."""
    line = text.strip()
    return line if line.split(" ", 1)[0] in _RUNNABLE else f"{tool} {line}".strip()


def call_text(call: ToolCall) -> str:
    """The text-protocol reply a tool call stands for; unusable calls become text the parser rejects
    with its usual format-error message (so the loop's counters and feedback stay the same)."""
    args = _arguments(call)
    if call.name == SUBMIT:
        return _block("json", json.dumps(args, ensure_ascii=False) if args is not None else call.arguments)
    if args is None:
        return f"(tool call {call.name} with unreadable arguments: {call.arguments})"
    if call.name == KUBECTL and isinstance(args.get("command"), str):
        return _block("bash", _command_line(args["command"], KUBECTL))
    if call.name == ANALYZE:
        extra = args.get("args") if isinstance(args.get("args"), str) else ""
        return _block("bash", _command_line(extra, ANALYZE) if extra.strip() else ANALYZE)
    return f"(tool call {call.name} is not one of {KUBECTL}, {ANALYZE}, {SUBMIT})"


_HERMES = re.compile(r"<tool_call>\s*(\{.*?\})\s*(?:</tool_call>|$)", re.DOTALL)


def text_calls(text: str) -> tuple[ToolCall, ...]:
    """Tool calls a model wrote as text in the Hermes form (`<tool_call>{"name", "arguments"}</tool_call>`).

    Qwen's own chat template asks for exactly this when tools are offered, and a llama.cpp server
    run without a function-calling chat format returns it as plain content instead of `tool_calls`
    (vLLM's `hermes` parser does this reading server-side).
    """
    calls = []
    for i, match in enumerate(_HERMES.finditer(text)):
        try:
            data = json.loads(match.group(1))
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            args = data.get("arguments", {})
            calls.append(ToolCall(f"call_text_{i}", data["name"],
                                  args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)))
    return tuple(calls)


def calls_text(calls: tuple[ToolCall, ...]) -> str:
    """Several calls in one reply become several blocks, which the parser refuses as it would in text."""
    return "\n\n".join(call_text(c) for c in calls)


def constrained_text(reply: str) -> str:
    """A constrained JSON reply as the text protocol's reply; anything else (a reply cut off by the
    token budget) is passed on unchanged for the parser to report."""
    try:
        data = json.loads(reply)
    except json.JSONDecodeError:
        return reply
    if isinstance(data, dict) and isinstance(data.get("command"), str):
        return _block("bash", data["command"].strip())
    if isinstance(data, dict) and isinstance(data.get("diagnosis"), dict):
        return _block("json", json.dumps(data["diagnosis"], ensure_ascii=False))
    return reply


def wire_messages(messages: list[Message], log: CallLog) -> list[Message]:
    """The loop's messages as a tool-calling server expects them.

    An assistant message logged as a tool call is sent as `tool_calls` (no text), and the message
    the loop appended after it (observation, refusal, format error, reminder) as one `tool` message
    per call id. Everything else is sent as it is.
    """
    out: list[Message] = []
    pending: tuple[ToolCall, ...] = ()
    for i, message in enumerate(messages):
        logged = log.get(i)
        if message.get("role") == "assistant" and logged and logged[0] == message.get("content"):
            # "" rather than null: llama.cpp's server rejects a null content; OpenAI accepts both.
            out.append({"role": "assistant", "content": "", "tool_calls": [c.to_wire() for c in logged[1]]})
            pending = logged[1]
            continue
        if pending and message.get("role") == "user":
            out += [{"role": "tool", "tool_call_id": c.id, "content": message["content"]} for c in pending]
        else:
            out.append(message)
        pending = ()
    return out


def with_system_note(messages: list[Message], note: str) -> list[Message]:
    """The request with `note` appended to its system message (or as one when there is none)."""
    if messages and messages[0].get("role") == "system":
        head = {**messages[0], "content": f"{messages[0]['content'].rstrip()}\n\n{note.strip()}\n"}
        return [head, *messages[1:]]
    return [{"role": "system", "content": note}, *messages]

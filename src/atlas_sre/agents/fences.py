"""Code fences that text inside them cannot close: how cluster text is put into a model's messages.

Command output is untrusted: a log line can hold "```" and then `SYSTEM: ...`, which under a fixed
three-backtick fence would close the block and speak outside it. CommonMark closes a fence only with
a run of backticks at least as long as the one that opened it, so a fence one backtick longer than
the longest run inside the content cannot be closed from inside (`fence_for`). Chat templates have a
second boundary, their special tokens (`<|im_end|>`, `<|start_header_id|>`, `[INST]`): servers parse
them out of the prompt text, so `neutralise_markers` breaks such strings in cluster text with a space.

`fenced_body` reads a block back (the reference student, trace readers), honouring the fence length.
"""

from __future__ import annotations

import re

_BACKTICKS = re.compile(r"`{3,}")
_OPENING = re.compile(r"^(`{3,})[^`\n]*$", re.MULTILINE)
_FENCE_LINE = re.compile(r"^(`{3,})[ \t]*$", re.MULTILINE)
# Chat-template control strings a server may turn into special tokens: ChatML/Llama-3/Phi `<|...|>`,
# Gemma `<start_of_turn>`, Mistral/Llama-2 `[INST]`, and sentence markers `<s>`, `</s>`.
_MARKER = re.compile(r"<\|[^|<>\s]{1,64}\|>|<(?:start|end)_of_turn>|\[/?INST\]|</?s>")


def fence_for(text: str) -> str:
    """A backtick fence longer than any run of three or more backticks in `text` (at least ```)."""
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(text)), default=2)
    return "`" * max(3, longest + 1)


def neutralise_markers(text: str) -> str:
    """Break chat-template control strings (`<|im_start|>` → `< |im_start|>`) so no server reads them as
    role boundaries; everything else is left byte for byte."""
    return _MARKER.sub(lambda m: f"{m.group(0)[0]} {m.group(0)[1:]}", text)


def fenced_body(content: str) -> str | None:
    """The text inside the first fenced block of `content`, with its last newline, or None without a block.

    Closed by a line of at least the opening fence's backticks; an unclosed block runs to the end of
    `content`, as in CommonMark.
    """
    opening = _OPENING.search(content)
    if opening is None:
        return None
    start = opening.end() + 1
    closing = next((m for m in _FENCE_LINE.finditer(content, start) if len(m.group(1)) >= len(opening.group(1))),
                   None)
    return content[start:closing.start() if closing else len(content)]


def clip_block(content: str, head_chars: int, note: str) -> str:
    """`content` cut to its first `head_chars` characters (never inside the opening fence), then `note`,
    then the block closed with the fence it opened with (``` when it has none)."""
    opening = _OPENING.search(content)
    keep = content[:max(head_chars, opening.end() if opening else 0)]
    return f"{keep.rstrip()}\n{note}\n{opening.group(1) if opening else '```'}"

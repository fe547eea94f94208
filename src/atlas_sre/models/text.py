"""Small text helpers every backend shares: stop handling, whitespace tokens, estimates, one-line errors.

They live in one place so that the scripted model, the estimate used when a server reports no usage,
and the error messages behave the same in every backend.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from atlas_sre.models.base import Message, ModelError

_WORD = re.compile(r"\S+\s*")
_SPACE = re.compile(r"\s+")

# Per-message framing overhead of chat templates (ChatML: "<|im_start|>role\n ... <|im_end|>\n").
_MESSAGE_OVERHEAD = 4
_REPLY_PRIMER = 2


def word_tokens(text: str) -> list[str]:
    """Split into whitespace tokens that keep their trailing space, so a prefix joins back verbatim."""
    lead = text[: len(text) - len(text.lstrip())]
    pieces = _WORD.findall(text)
    if pieces and lead:
        pieces[0] = lead + pieces[0]
    return pieces


def truncate_words(text: str, max_tokens: int) -> tuple[str, bool]:
    """Keep the first `max_tokens` whitespace tokens; say whether anything was cut."""
    pieces = word_tokens(text)
    if len(pieces) <= max_tokens:
        return text, False
    return "".join(pieces[: max(max_tokens, 0)]).rstrip(), True


def apply_stop(text: str, stop: Sequence[str] | None) -> tuple[str, bool]:
    """Cut `text` at the earliest stop string, as servers do (the stop string itself is not returned)."""
    if not stop:
        return text, False
    cuts = [text.find(s) for s in stop if s]
    cuts = [c for c in cuts if c >= 0]
    if not cuts:
        return text, False
    return text[: min(cuts)], True


def estimate_tokens(text: str) -> int:
    """Tokenizer-free estimate: BPE vocabularies average about four characters per token on English
    and code, and never fewer tokens than whitespace words. Used only when a server reports no usage."""
    if not text:
        return 0
    return max(len(text.split()), math.ceil(len(text) / 4))


MAX_CHARS_PER_TOKEN = 32
"""No tokenizer's tokens average more characters than this (long runs of spaces or dashes are the
longest; English and code average about four). A reply longer than `max_tokens` times this was not
generated within `max_tokens`, and a count below `len(text) / this` is not a count of `text`."""


def cap_reply_text(text: str, max_tokens: int) -> tuple[str, bool]:
    """Cut a reply to what `max_tokens` tokens can hold (`MAX_CHARS_PER_TOKEN` each); say whether it was cut.

    A server may ignore `max_tokens`; what it sends beyond that must not grow traces and later prompts.
    """
    limit = max_tokens * MAX_CHARS_PER_TOKEN
    return (text, False) if len(text) <= limit else (text[:limit], True)


def plausible_count(reported: object, floor: int, ceiling: int) -> int | None:
    """A token count a server reported, if it is an integer within [floor, ceiling]; else None (count it ourselves)."""
    if isinstance(reported, bool) or not isinstance(reported, int):
        return None
    return reported if floor <= reported <= ceiling else None


def estimate_prompt_tokens(messages: Sequence[Message]) -> int:
    """Estimate of a chat prompt: content plus the chat template's framing per message."""
    body = sum(estimate_tokens(m.get("content") or "") + _MESSAGE_OVERHEAD for m in messages)
    return body + _REPLY_PRIMER


def one_line(message: str, limit: int = 400) -> str:
    """Collapse whitespace and clip, so an error from a server can never spill a page onto the terminal."""
    flat = _SPACE.sub(" ", message).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def model_error(message: str) -> ModelError:
    """A ModelError whose text is guaranteed to be one line."""
    return ModelError(one_line(message))


def check_messages(messages: Sequence[Message], max_tokens: int) -> None:
    """Reject malformed requests before they reach a server, with the same words for every backend."""
    if max_tokens < 1:
        raise model_error(f"max_tokens must be at least 1, got {max_tokens}")
    if not messages:
        raise model_error("no messages to send: a chat request needs at least one message")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            raise model_error(f"message {i} must be a dict with 'role' and 'content', got {m!r}")

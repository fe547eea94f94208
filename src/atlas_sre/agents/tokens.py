"""The one deterministic tokenizer the reference agents count with.

Reference agents call no model, yet their plans, probes and corrections must be costed and must
respect the same budgets as an LLM's (`probe_token_limit`, `correction_token_limit`). One
function does it everywhere so numbers are reproducible and comparable run to run.

The rule: a token is a run of ASCII letters, a run of digits, or any other single non-space
character. `kubectl get pods -A` is 5 tokens (`kubectl`, `get`, `pods`, `-`, `A`), `503` is 1,
`shop/Deployment/checkout` is 5. On English prose and shell commands this lands within about
±25% of a BPE tokenizer (BPE splits rare long words but merges a space into the next word), which
is close enough to read budgets the same way; it never depends on the installed model.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]")


def count_tokens(text: str) -> int:
    """Number of tokens in `text` by the module's rule."""
    return len(_TOKEN.findall(text))


def clip_tokens(text: str, limit: int) -> str:
    """The longest prefix of `text` with at most `limit` tokens, cut at a word boundary when possible.

    Reference agents write with this so a budget holds by construction, as `max_tokens` holds for a
    model backend.
    """
    if limit <= 0:
        return ""
    matches = list(_TOKEN.finditer(text))
    if len(matches) <= limit:
        return text
    end = matches[limit - 1].end()
    cut = text[:end]
    space = cut.rfind(" ")
    if space > 0 and not text[end:end + 1].isspace():
        cut = cut[:space]  # the limit fell inside a word (`shop/` of `shop/Deployment`): drop the fragment
    return cut.rstrip()

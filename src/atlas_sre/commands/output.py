"""Shaping what the agent sees: stdout then stderr, capped to a byte and line budget.

Why head *and* tail: the first lines of `kubectl` output carry the table header and the last ones
carry the latest log lines and the error message; the middle is what an agent can narrow with
`grep`/`--tail`. The cut is marked in-band (`... [N lines / M bytes cut] ...`) so an LLM knows
output was elided and how much. A single huge line (`--raw`, `-o json` minified) is cut by bytes.
"""

from __future__ import annotations


def join_streams(stdout: str, *stderr: str) -> str:
    """What a terminal shows: stdout, then stderr, each starting on its own line."""
    text = stdout
    for err in stderr:
        if not err:
            continue
        if text and not text.endswith("\n"):
            text += "\n"
        text += err
    return text


def _nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _clip_head(text: str, budget: int) -> str:
    """The longest prefix within `budget` bytes, ending at a line break when one is reasonably near."""
    if _nbytes(text) <= budget:
        return text
    piece = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    cut = piece.rfind("\n")
    return piece[: cut + 1] if cut >= len(piece) // 2 else piece


def _clip_tail(text: str, budget: int) -> str:
    """The longest suffix within `budget` bytes, starting at a line start when one is reasonably near."""
    if _nbytes(text) <= budget:
        return text
    piece = text.encode("utf-8")[-budget:].decode("utf-8", errors="ignore") if budget > 0 else ""
    cut = piece.find("\n")
    return piece[cut + 1 :] if 0 <= cut < len(piece) // 2 else piece


def truncate_output(text: str, max_bytes: int, max_lines: int) -> tuple[str, bool]:
    """Keep the head and tail of `text` within the budgets; return (text, truncated?).

    The marker line is added on top of the budget. Lines are newline-terminated pieces.
    """
    lines = text.splitlines(keepends=True)
    if len(lines) <= max_lines and _nbytes(text) <= max_bytes:
        return text, False
    head_lines = max(1, (max_lines - 1) // 2)
    tail_lines = max(0, max_lines - 1 - head_lines)
    if len(lines) > max_lines:
        head = "".join(lines[:head_lines])
        tail = "".join(lines[len(lines) - tail_lines :]) if tail_lines else ""
    else:
        head, tail = text, ""
    budget = max(0, max_bytes - 64)
    if _nbytes(head) + _nbytes(tail) > budget:
        if tail:
            head = _clip_head(head, budget // 2)
            tail = _clip_tail(tail, budget - _nbytes(head))
        else:  # few, long lines: split the one remaining piece into its own head and tail
            whole = head
            head = _clip_head(whole, budget // 2)
            tail = _clip_tail(whole[len(head) :], budget - _nbytes(head))
    cut_bytes = _nbytes(text) - _nbytes(head) - _nbytes(tail)
    cut_lines = max(0, len(lines) - len(head.splitlines()) - len(tail.splitlines()))
    if head and not head.endswith("\n"):
        head += "\n"
    marker = f"... [{cut_lines} lines / {cut_bytes} bytes cut] ...\n"
    return head + marker + tail, True

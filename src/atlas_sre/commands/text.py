"""The line model shared by the in-process filters (grep, head, tail, wc, sort, uniq, jq, awk, cut).

Why this exists: the filters replace a shell pipeline, so they must agree with each other on
what a "line" is (newline-terminated, like coreutils) and on how a filter reports back
(exit status, stdout, stderr), without importing each other.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol


class FilterUsageError(ValueError):
    """A filter was invoked with options or operands the read-only layer does not accept."""


class FilterOutput(NamedTuple):
    """What a filter hands to the next stage: exit status, stdout text, stderr text."""

    exit_code: int
    stdout: str
    stderr: str = ""


class Filter(Protocol):
    """A parsed, validated filter invocation; `apply` never touches files, processes or network."""

    argv: tuple[str, ...]

    def apply(self, text: str) -> FilterOutput:
        """Run the filter over the previous stage's stdout."""
        ...


def split_lines(text: str) -> list[str]:
    """Split text into lines the way coreutils sees them (a final newline ends, not adds, a line)."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def join_lines(lines: list[str]) -> str:
    """Inverse of `split_lines`: every output line is newline-terminated."""
    return "".join(line + "\n" for line in lines)

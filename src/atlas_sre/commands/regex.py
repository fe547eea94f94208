"""One regex engine for every filter (grep, jq's test/match/capture/sub/gsub): linear time first.

Why: Python's `re` backtracks, and one pattern such as `(([0-9a-f-])+)+X` or `.*.*.*...Z` can run
for hours on a single line and cannot be interrupted. RE2 (`google-re2`) matches in time linear
in the input, so with it a filter's cost is bounded by the size of its input. Patterns RE2 does not
accept (backreferences `\\1`, lookaround `(?=` `(?<!`, possessive forms) and machines without
RE2 fall back to `re`; such a filter is marked `linear=False`, and the runner then evaluates it in
a child process under the per-command filter time limit (`bounded.run_filters`), so every filter
still ends within the documented limit with a one-line message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

try:  # optional at run time: `pip install google-re2` (a dev dependency of this project)
    import re2 as _re2
except ImportError:  # pragma: no cover - depends on the machine
    _re2 = None

HAVE_RE2 = _re2 is not None
FALLBACK_NOTE = ("the pattern uses features the linear-time engine (RE2) lacks (backreferences, lookaround) "
                 "or RE2 is not installed, so it ran on the backtracking engine")


class RegexError(ValueError):
    """An invalid pattern, in words an agent can act on."""


@dataclass(frozen=True)
class Regex:
    """A compiled pattern and whether matching is guaranteed linear in the input."""

    pattern: str
    compiled: Any
    linear: bool

    def search(self, text: str) -> Any:
        return self.compiled.search(text)

    def finditer(self, text: str) -> Any:
        return self.compiled.finditer(text)

    def sub(self, repl: Any, text: str, count: int = 0) -> str:
        return str(self.compiled.sub(repl, text, count=count))


def compile_regex(pattern: str, ignore_case: bool = False, extended_flags: str = "") -> Regex:
    """Compile with RE2 when it accepts the pattern, else with `re` (then `linear` is False).

    `extended_flags` are jq/Oniguruma-style letters: i (ignore case), x (extended), s (single line), n.
    """
    flags = "i" if ignore_case or "i" in extended_flags else ""
    flags += "s" if "s" in extended_flags else ""
    prefix = f"(?{flags})" if flags else ""
    if _re2 is not None and "x" not in extended_flags:
        options = _re2.Options()
        options.log_errors = False
        try:
            return Regex(pattern, _re2.compile(prefix + pattern, options), True)
        except Exception:  # re2.error: fall through to the backtracking engine
            pass
    py_flags = (re.IGNORECASE if "i" in flags else 0) | (re.DOTALL if "s" in flags else 0)
    py_flags |= re.VERBOSE if "x" in extended_flags else 0
    try:
        return Regex(pattern, re.compile(pattern, py_flags), False)
    except (re.error, RecursionError, OverflowError) as exc:
        raise RegexError(f"invalid regular expression: {exc}") from exc

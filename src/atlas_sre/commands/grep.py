"""`grep`, implemented in Python over the previous stage's output.

Why in-process: a real grep could be pointed at files (`-r`, `-f FILE`, file operands); this one
only ever sees the text of the command before the pipe. Supported: -i -v -E -F -c -n -w -x -o
-m N, -A/-B/-C N, -e PAT (repeatable), `--` and the GNU long spellings. Patterns are POSIX
basic (default) or extended (-E) regular expressions, translated to Python's `re`; `\\d`, `\\s`,
`\\w` and `[[:class:]]` work as agents expect. Nested quantifiers such as `(a+)+` are refused:
Python's regex engine cannot be interrupted, and one such pattern could stall the whole run.
"""

from __future__ import annotations

import getopt
import re
from dataclasses import dataclass

from atlas_sre.commands.regex import Regex, RegexError, compile_regex
from atlas_sre.commands.text import FilterOutput, FilterUsageError, join_lines, split_lines

_SHORT = "ivEFcnwxoe:m:A:B:C:"
_LONG = [
    "ignore-case", "invert-match", "extended-regexp", "fixed-strings", "count", "line-number",
    "word-regexp", "line-regexp", "only-matching", "regexp=", "max-count=", "after-context=",
    "before-context=", "context=", "basic-regexp",
]
_ALIASES = {
    "--ignore-case": "-i", "--invert-match": "-v", "--extended-regexp": "-E", "--fixed-strings": "-F",
    "--count": "-c", "--line-number": "-n", "--word-regexp": "-w", "--line-regexp": "-x",
    "--only-matching": "-o", "--regexp": "-e", "--max-count": "-m", "--after-context": "-A",
    "--before-context": "-B", "--context": "-C", "--basic-regexp": "-G",
}
_POSIX_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r"\s", "blank": r" \t", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f", "word": r"\w",
}
MAX_PATTERN_CHARS = 1000


def translate_regex(pattern: str, extended: bool) -> str:
    """Translate a POSIX BRE/ERE (GNU flavour) into an equivalent Python regular expression."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            d = pattern[i + 1]
            if d in "<>":
                out.append(r"\b")
            elif d in "|+?(){}":
                out.append(("\\" + d) if extended else d)
            else:
                out.append("\\" + d)
            i += 2
            continue
        if c == "[":
            end, body = _bracket(pattern, i)
            out.append(body)
            i = end
            continue
        if not extended and c in "|+?(){}":
            out.append("\\" + c)
        elif not extended and c == "^" and i > 0 and not pattern.endswith(("\\(", "\\|"), 0, i):
            out.append(r"\^")  # BRE: `^` anchors only at the start of a (sub)pattern
        elif not extended and c == "$" and i < n - 1 and not pattern.startswith(("\\)", "\\|"), i + 1):
            out.append(r"\$")  # BRE: `$` anchors only at the end of a (sub)pattern
        elif c == "*" and (not out or out[-1] in ("^", "(", "|")):
            out.append(r"\*")  # a leading star is literal in POSIX regexes
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _bracket(pattern: str, start: int) -> tuple[int, str]:
    """Copy one bracket expression, converting [:class:] names and escaping Python-only syntax."""
    i = start + 1
    body = ["["]
    if i < len(pattern) and pattern[i] == "^":
        body.append("^")
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        body.append(r"\]")
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        if pattern.startswith("[:", i):
            close = pattern.find(":]", i + 2)
            name = pattern[i + 2 : close] if close > 0 else ""
            if name in _POSIX_CLASSES:
                body.append(_POSIX_CLASSES[name])
                i = close + 2
                continue
        c = pattern[i]
        body.append("\\" + c if c in "\\[" else c)
        i += 1
    if i >= len(pattern):
        raise FilterUsageError("grep: unmatched [ in pattern")
    body.append("]")
    return i + 1, "".join(body)


@dataclass(frozen=True)
class GrepFilter:
    """A compiled grep invocation (see module docstring for the supported subset)."""

    argv: tuple[str, ...]
    regex: Regex
    invert: bool = False
    count: bool = False
    line_numbers: bool = False
    only_matching: bool = False
    max_count: int | None = None
    before: int = 0
    after: int = 0
    word: bool = False

    @property
    def linear(self) -> bool:
        """True when matching cannot backtrack (RE2); else the runner bounds it in a child process."""
        return self.regex.linear

    def apply(self, text: str) -> FilterOutput:
        lines = split_lines(text)
        selected = [i for i, line in enumerate(lines) if bool(self.regex.search(line)) != self.invert]
        if self.max_count is not None:
            selected = selected[: self.max_count]
        code = 0 if selected else 1
        if self.count:
            return FilterOutput(code, f"{len(selected)}\n")
        if self.only_matching and not self.invert:
            out = []
            for i in selected:
                for m in self.regex.finditer(lines[i]):
                    found = m.group(1) if self.word else m.group(0)
                    if found:
                        out.append(self._prefix(i, ":") + found)
            return FilterOutput(code, join_lines(out))
        return FilterOutput(code, join_lines(self._with_context(lines, selected)))

    def _prefix(self, index: int, sep: str) -> str:
        return f"{index + 1}{sep}" if self.line_numbers else ""

    def _with_context(self, lines: list[str], selected: list[int]) -> list[str]:
        if not (self.before or self.after):
            return [self._prefix(i, ":") + lines[i] for i in selected]
        chosen = set(selected)
        shown: list[int] = []
        for i in selected:
            shown.extend(range(max(0, i - self.before), min(len(lines), i + self.after + 1)))
        out: list[str] = []
        last = -2
        for i in sorted(set(shown)):
            if out and i > last + 1:
                out.append("--")
            out.append(self._prefix(i, ":" if i in chosen else "-") + lines[i])
            last = i
        return out


def _count_arg(opt: str, value: str) -> int:
    if not value.isdigit():
        raise FilterUsageError(f"grep: {opt} needs a non-negative number, got {value!r}")
    return int(value)


def parse_grep(argv: list[str]) -> GrepFilter:
    """Validate and compile a grep invocation; refuse file operands and unsupported options."""
    try:
        opts, operands = getopt.gnu_getopt(argv[1:], _SHORT, _LONG)
    except getopt.GetoptError as exc:
        raise FilterUsageError(
            f"grep: {exc.msg} (supported: -i -v -E -F -c -n -w -x -o -m N -A N -B N -C N -e PAT)"
        ) from exc
    flags: dict[str, str | bool] = {}
    patterns: list[str] = []
    for opt, value in opts:
        opt = _ALIASES.get(opt, opt)
        if opt == "-e":
            patterns.append(value)
        elif opt in ("-m", "-A", "-B", "-C"):
            flags[opt] = str(_count_arg(opt, value))
        else:
            flags[opt] = True
    if not patterns:
        if not operands:
            raise FilterUsageError("grep: missing pattern (usage: ... | grep [OPTIONS] PATTERN)")
        patterns.append(operands.pop(0))
    if operands:
        raise FilterUsageError(
            "grep: file operands are not allowed; filters read only the previous command's output"
        )
    return GrepFilter(
        argv=tuple(argv),
        regex=_compile(patterns, flags),
        invert="-v" in flags,
        count="-c" in flags,
        line_numbers="-n" in flags,
        only_matching="-o" in flags,
        max_count=int(str(flags["-m"])) if "-m" in flags else None,
        before=int(str(flags.get("-B", flags.get("-C", 0)))),
        after=int(str(flags.get("-A", flags.get("-C", 0)))),
        word="-w" in flags and "-x" not in flags,
    )


def _compile(patterns: list[str], flags: dict[str, str | bool]) -> Regex:
    parts = []
    for pattern in patterns:
        if len(pattern) > MAX_PATTERN_CHARS:
            raise FilterUsageError(f"grep: pattern longer than {MAX_PATTERN_CHARS} characters")
        if "-F" in flags:
            parts.append(re.escape(pattern))
            continue
        parts.append(translate_regex(pattern, extended="-E" in flags))
    body = "|".join(f"(?:{p})" for p in parts)
    if "-x" in flags:
        body = f"^(?:{body})$"
    elif "-w" in flags:
        body = rf"(?:^|[^\w])({body})(?:[^\w]|$)"  # GNU -w without lookaround, so RE2 can take it
    try:
        return compile_regex(body, ignore_case="-i" in flags)
    except RegexError as exc:
        raise FilterUsageError(f"grep: {exc}") from exc

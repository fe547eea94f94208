"""`awk` (print/printf field programs only) and `cut`, in Python over the previous stage's output.

Why a subset: agents write `| awk '{print $1}'` and `| cut -d' ' -f1` constantly, and refusing them
costs a step each time. Real awk is a full language (`system()`, `getline`, `print > FILE`,
`| "sh"`), so this one accepts only a grammar of rules `[PATTERN] [{ print|printf ... }]`:
patterns `/re/`, `!/re/`, `$N ~ /re/`, `$N !~ /re/`, comparisons of `$N`/`NR`/`NF` with numbers or
strings, joined by `&&`/`||`; print arguments `$N`, `$NF`, `$(NF-N)`, `NR`, `NF`, numbers and
strings, joined by `,` (a space) or juxtaposition. Anything else is refused before the pipeline
runs. Regexes use the shared linear-time engine (`commands.regex`).
"""

from __future__ import annotations

import getopt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from atlas_sre.commands.grep import translate_regex
from atlas_sre.commands.regex import Regex, RegexError, compile_regex
from atlas_sre.commands.text import FilterOutput, FilterUsageError, join_lines, split_lines

AWK_USAGE = ("awk accepts print/printf field programs only, e.g. '{print $1}', 'NR>1 {print $1, $3}', "
             "'/Running/ {print $1}', '$3 != \"Running\" {print $1}', -F SEP; system(), getline, variables, "
             "pipes and redirection are refused")
_AWK_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>\"(?:[^\"\\]|\\.)*\")|(?P<ident>[A-Za-z_]+)"
    r"|(?P<op>==|!=|>=|<=|!~|&&|\|\||[{}();,$~!<>+-])|(?P<re>/(?:[^/\\]|\\.)*/))"
)
Getter = Callable[[list[str], str, int], Any]


def _awk_tokens(program: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos, expect_re = 0, True
    while pos < len(program):
        if program[pos:].strip() == "":
            break
        m = _AWK_TOKEN.match(program, pos)
        if not m or (m.lastgroup == "re" and not expect_re):
            raise FilterUsageError(f"awk: unsupported syntax at {program[pos:pos + 15].strip()!r}; {AWK_USAGE}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        expect_re = kind == "op" and m.group(kind) in ("~", "!~", "!", "&&", "||", "(", ";", "{", "}")
        pos = m.end()
    tokens.append(("eof", ""))
    return tokens


def _string(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(left: Any, op: str, right: Any) -> bool:
    a, b = _number(str(left)), _number(str(right))
    x, y = (a, b) if a is not None and b is not None else (str(left), str(right))
    return {"==": x == y, "!=": x != y, ">": x > y, "<": x < y, ">=": x >= y, "<=": x <= y}[op]  # type: ignore[operator]


@dataclass
class _AwkParser:
    tokens: list[tuple[str, str]]
    i: int = 0

    def peek(self, value: str) -> bool:
        return self.tokens[self.i][1] == value and self.tokens[self.i][0] in ("op", "ident")

    def take(self, value: str) -> None:
        if not self.peek(value):
            raise FilterUsageError(f"awk: expected {value!r} near {self.tokens[self.i][1]!r}; {AWK_USAGE}")
        self.i += 1

    def rules(self) -> list[tuple[Callable[..., bool] | None, list[Callable[..., str]]]]:
        rules = []
        while self.tokens[self.i][0] != "eof":
            pattern = None if self.peek("{") else self.condition()
            actions = self.action() if self.peek("{") else [lambda f, line, nr: line]
            rules.append((pattern, actions))
            while self.peek(";"):
                self.i += 1
        if not rules:
            raise FilterUsageError(f"awk: empty program; {AWK_USAGE}")
        return rules

    def condition(self) -> Callable[..., bool]:
        left = self.term()
        while self.peek("&&") or self.peek("||"):
            op = self.tokens[self.i][1]
            self.i += 1
            right = self.term()
            left = (lambda a, b: lambda *x: a(*x) and b(*x)) (left, right) if op == "&&" else \
                (lambda a, b: lambda *x: a(*x) or b(*x))(left, right)
        return left

    def term(self) -> Callable[..., bool]:
        kind, text = self.tokens[self.i]
        if self.peek("!") and self.tokens[self.i + 1][0] == "re":
            self.i += 2
            rx = _awk_regex(self.tokens[self.i - 1][1])
            return lambda f, line, nr: rx.search(line) is None
        if kind == "re":
            self.i += 1
            rx = _awk_regex(text)
            return lambda f, line, nr: rx.search(line) is not None
        value = self.value()
        op_kind, op = self.tokens[self.i]
        if op in ("~", "!~") and op_kind == "op":
            self.i += 1
            if self.tokens[self.i][0] != "re":
                raise FilterUsageError(f"awk: `{op}` needs a /regex/; {AWK_USAGE}")
            rx = _awk_regex(self.tokens[self.i][1])
            self.i += 1
            return lambda f, line, nr: (rx.search(str(value(f, line, nr))) is None) == (op == "!~")
        if op in ("==", "!=", ">", "<", ">=", "<=") and op_kind == "op":
            self.i += 1
            right = self.value()
            return lambda f, line, nr: _compare(value(f, line, nr), op, right(f, line, nr))
        return lambda f, line, nr: bool(str(value(f, line, nr)).strip("0.") if _number(
            str(value(f, line, nr))) is not None else str(value(f, line, nr)))

    def value(self) -> Getter:
        kind, text = self.tokens[self.i]
        self.i += 1
        if kind == "num":
            number = float(text)
            return lambda f, line, nr: _fmt(number)
        if kind == "str":
            s = _string(text)
            return lambda f, line, nr: s
        if kind == "ident" and text in ("NR", "NF"):
            return (lambda f, line, nr: nr) if text == "NR" else (lambda f, line, nr: len(f))
        if kind == "op" and text == "$":
            return self.field()
        raise FilterUsageError(f"awk: unsupported {text!r}; {AWK_USAGE}")

    def field(self) -> Getter:
        kind, text = self.tokens[self.i]
        self.i += 1
        if kind == "num" and text.isdigit():
            n = int(text)
            return lambda f, line, nr: line if n == 0 else (f[n - 1] if n <= len(f) else "")
        if kind == "ident" and text == "NF":
            return lambda f, line, nr: f[-1] if f else line
        if kind == "op" and text == "(" and self.peek("NF"):
            self.i += 1
            back = 0
            if self.peek("-"):
                self.i += 1
                kind2, text2 = self.tokens[self.i]
                if kind2 != "num" or not text2.isdigit():
                    raise FilterUsageError(f"awk: $(NF-N) needs a number; {AWK_USAGE}")
                back = int(text2)
                self.i += 1
            self.take(")")
            return lambda f, line, nr: f[len(f) - 1 - back] if 0 <= len(f) - 1 - back < len(f) else ""
        raise FilterUsageError(f"awk: fields are $N, $NF or $(NF-N); {AWK_USAGE}")

    def action(self) -> list[Callable[..., str]]:
        self.take("{")
        statements: list[Callable[..., str]] = []
        while not self.peek("}"):
            if self.peek(";"):
                self.i += 1
                continue
            if self.peek("print"):
                self.i += 1
                statements.append(self.print_args())
            elif self.peek("printf"):
                self.i += 1
                statements.append(self.printf_args())
            else:
                raise FilterUsageError(f"awk: only print and printf statements are allowed; {AWK_USAGE}")
        self.take("}")
        return statements

    def expr_list(self) -> list[list[Getter]]:
        groups: list[list[Getter]] = [[]]
        while not (self.peek("}") or self.peek(";")):
            if self.peek(","):
                self.i += 1
                groups.append([])
                continue
            if self.tokens[self.i][0] == "eof":
                raise FilterUsageError(f"awk: missing '}}'; {AWK_USAGE}")
            groups[-1].append(self.value())
        return groups

    def print_args(self) -> Callable[..., str]:
        groups = [g for g in self.expr_list() if g]
        if not groups:
            return lambda f, line, nr: line
        return lambda f, line, nr: " ".join("".join(str(g(f, line, nr)) for g in grp) for grp in groups)

    def printf_args(self) -> Callable[..., str]:
        groups = self.expr_list()
        if not groups or len(groups[0]) != 1:
            raise FilterUsageError(f"awk: printf needs a format string; {AWK_USAGE}")
        fmt_getter, args = groups[0][0], groups[1:]

        def run(f: list[str], line: str, nr: int) -> str:
            fmt = str(fmt_getter(f, line, nr))
            values = tuple(_printf_value("".join(str(g(f, line, nr)) for g in grp)) for grp in args)
            try:
                return fmt % values
            except (TypeError, ValueError) as exc:
                raise FilterUsageError(f"awk: printf: {exc}") from exc

        return lambda f, line, nr: "\0" + run(f, line, nr)  # printf adds no newline


def _printf_value(text: str) -> Any:
    number = _number(text)
    return number if number is not None and text.strip() else text


def _fmt(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


def _awk_regex(literal: str) -> Regex:
    try:
        return compile_regex(translate_regex(literal[1:-1], extended=True))
    except RegexError as exc:
        raise FilterUsageError(f"awk: {exc}") from exc


@dataclass(frozen=True)
class AwkFilter:
    """A parsed `awk [-F SEP] 'PROGRAM'` of the print/printf subset."""

    argv: tuple[str, ...]
    rules: list[Any] = field(default_factory=list, hash=False, compare=False)
    separator: str | None = None
    linear: ClassVar[bool] = True

    def _split(self, line: str) -> list[str]:
        if self.separator is None or self.separator == " ":
            return line.split()
        return line.split(self.separator)

    def apply(self, text: str) -> FilterOutput:
        out: list[str] = []
        try:
            for nr, line in enumerate(split_lines(text), start=1):
                fields = self._split(line)
                for pattern, actions in self.rules:
                    if pattern is None or pattern(fields, line, nr):
                        for action in actions:
                            piece = action(fields, line, nr)
                            if piece.startswith("\0"):
                                out.append(piece[1:])
                            else:
                                out.append(piece + "\n")
        except FilterUsageError as exc:
            return FilterOutput(2, "".join(out), f"{exc}\n")
        return FilterOutput(0, "".join(out))


def parse_awk(argv: list[str]) -> AwkFilter:
    """Validate `awk [-F SEP] 'PROGRAM'`; no -f, -v, file operands or statements other than print."""
    try:
        opts, operands = getopt.gnu_getopt(argv[1:], "F:", ["field-separator="])
    except getopt.GetoptError as exc:
        raise FilterUsageError(f"awk: {exc.msg}; {AWK_USAGE}") from exc
    if len(operands) != 1:
        raise FilterUsageError("awk: give exactly one program and no file operands (awk reads the previous "
                               f"command's output); {AWK_USAGE}")
    sep = None
    for _, value in opts:
        sep = {"\\t": "\t", "t": "\t"}.get(value, value)
    if sep == "":
        raise FilterUsageError("awk: -F needs a separator")
    program = operands[0]
    if len(program) > 1000:
        raise FilterUsageError("awk: program longer than 1000 characters")
    return AwkFilter(tuple(argv), _AwkParser(_awk_tokens(program)).rules(), sep)


@dataclass(frozen=True)
class CutFilter:
    """`cut -d DELIM -f LIST [-s]` or `cut -c LIST` (GNU semantics, 1-based inclusive ranges)."""

    argv: tuple[str, ...]
    ranges: tuple[tuple[int, int], ...]
    chars: bool = False
    delimiter: str = "\t"
    only_delimited: bool = False
    linear: ClassVar[bool] = True

    def _pick(self, items: list[str]) -> list[str]:
        return [x for i, x in enumerate(items, start=1) if any(a <= i <= b for a, b in self.ranges)]

    def apply(self, text: str) -> FilterOutput:
        out = []
        for line in split_lines(text):
            if self.chars:
                out.append("".join(self._pick(list(line))))
            elif self.delimiter not in line:
                if not self.only_delimited:
                    out.append(line)
            else:
                out.append(self.delimiter.join(self._pick(line.split(self.delimiter))))
        return FilterOutput(0, join_lines(out))


def _ranges(spec: str) -> tuple[tuple[int, int], ...]:
    ranges = []
    for piece in spec.split(","):
        m = re.fullmatch(r"(\d*)-?(\d*)", piece)
        if not m or not piece or piece == "-" or (piece.startswith("0") and piece != "0-"):
            raise FilterUsageError(f"cut: invalid field list {spec!r} (use e.g. 1 / 1,3 / 2- / -3 / 1-4)")
        start = int(m.group(1)) if m.group(1) else 1
        end = (int(m.group(2)) if m.group(2) else 1 << 30) if "-" in piece else start
        if start < 1 or end < start:
            raise FilterUsageError(f"cut: invalid field range {piece!r}")
        ranges.append((start, end))
    return tuple(ranges)


def parse_cut(argv: list[str]) -> CutFilter:
    """Validate `cut` with -d/--delimiter, -f/--fields, -c/--characters, -s/--only-delimited."""
    try:
        opts, operands = getopt.gnu_getopt(argv[1:], "d:f:c:s", ["delimiter=", "fields=", "characters=",
                                                                  "only-delimited"])
    except getopt.GetoptError as exc:
        raise FilterUsageError(f"cut: {exc.msg} (supported: -d DELIM -f LIST -c LIST -s)") from exc
    if operands:
        raise FilterUsageError("cut: file operands are not allowed; filters read only the previous command's "
                               "output")
    got = {o.lstrip("-")[:1]: v for o, v in opts}
    if ("f" in got) == ("c" in got):
        raise FilterUsageError("cut: give exactly one of -f LIST or -c LIST")
    delimiter = got.get("d", "\t")
    if len(delimiter) != 1:
        raise FilterUsageError("cut: the delimiter must be a single character")
    return CutFilter(tuple(argv), _ranges(got.get("f") or got.get("c") or ""), chars="c" in got,
                     delimiter=delimiter, only_delimited="s" in got)

"""The filters allowed after a pipe: grep, head, tail, wc, sort, uniq, jq, awk, cut — all in Python.

Why in-process: the coreutils these imitate can read and write files (`sort -o`, `uniq IN OUT`,
`head FILE`, `tail -f`); here a filter only transforms the previous stage's text, so the only
thing an agent can do with a pipe is look more closely at what it already may see. Options are
validated before anything runs (unsupported ones are refused with the supported list). Output
formats follow GNU coreutils (`uniq -c` is `%7d line`, `wc` alone prints one bare number).
"""

from __future__ import annotations

import getopt
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from atlas_sre.commands.fields import parse_awk, parse_cut
from atlas_sre.commands.grep import parse_grep
from atlas_sre.commands.jq import parse_jq
from atlas_sre.commands.text import Filter, FilterOutput, FilterUsageError, join_lines, split_lines

_NUMBER = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)")
_HUMAN = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*([kKMGTPEm]?)(i?)")
_SCALE = {"": 1.0, "m": 1e-3, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}


def _getopt(name: str, argv: list[str], short: str, longs: dict[str, str], usage: str) -> dict[str, str]:
    """Parse options GNU-style into {short letter: value}; any operand (a file) or unknown option is refused.

    `longs` maps getopt long specs ("lines=") to the short letter they stand for ("n").
    """
    args: list[str] = []
    for arg in argv[1:]:
        obsolete = name in ("head", "tail") and re.fullmatch(r"-\d+", arg) and args[-1:] not in (["-n"], ["--lines"])
        args.append(f"-n{arg[1:]}" if obsolete else arg)
    try:
        opts, operands = getopt.gnu_getopt(args, short, list(longs))
    except getopt.GetoptError as exc:
        raise FilterUsageError(f"{name}: {exc.msg} (supported: {usage})") from exc
    if operands:
        raise FilterUsageError(
            f"{name}: operands ({' '.join(operands)}) are not allowed; filters read only the previous "
            "command's output and never files"
        )
    by_long = {spec.rstrip("="): letter for spec, letter in longs.items()}
    return {by_long[opt[2:]] if opt.startswith("--") else opt[1:]: value for opt, value in opts}


@dataclass(frozen=True)
class HeadFilter:
    """`head -n N` (first N lines) / `head -n -N` (all but the last N)."""

    argv: tuple[str, ...]
    linear: ClassVar[bool] = True  # cost bounded by the input: runs in-process
    count: int = 10

    def apply(self, text: str) -> FilterOutput:
        lines = split_lines(text)
        kept = lines[: self.count] if self.count >= 0 else lines[: max(0, len(lines) + self.count)]
        return FilterOutput(0, join_lines(kept))


@dataclass(frozen=True)
class TailFilter:
    """`tail -n N` (last N lines) / `tail -n +N` (from line N on)."""

    argv: tuple[str, ...]
    linear: ClassVar[bool] = True  # cost bounded by the input: runs in-process
    count: int = 10
    from_start: bool = False

    def apply(self, text: str) -> FilterOutput:
        lines = split_lines(text)
        if self.from_start:
            kept = lines[max(0, self.count - 1) :]
        else:
            kept = lines[len(lines) - self.count :] if self.count else []
        return FilterOutput(0, join_lines(kept))


def _line_count(name: str, value: str, allow_sign: str) -> tuple[int, bool]:
    if not re.fullmatch(rf"[{allow_sign}]?\d+", value):
        raise FilterUsageError(f"{name}: invalid number of lines: {value!r}")
    return int(value), value.startswith("+")


def parse_head(argv: list[str]) -> HeadFilter:
    """`head [-n N | -N | --lines=N]`; N may be negative (GNU: all but the last N)."""
    opts = _getopt("head", argv, "n:", {"lines=": "n"}, "-n N, -N")
    count, _ = _line_count("head", opts.get("n", "10"), "-")
    return HeadFilter(tuple(argv), count)


def parse_tail(argv: list[str]) -> TailFilter:
    """`tail [-n N | -N | -n +N | --lines=N]`; `-f` (follow) is not supported: it never ends."""
    opts = _getopt("tail", argv, "n:", {"lines=": "n"}, "-n N, -N, -n +N")
    count, from_start = _line_count("tail", opts.get("n", "10"), "+-")
    return TailFilter(tuple(argv), abs(count), from_start)


@dataclass(frozen=True)
class WcFilter:
    """`wc [-l] [-w] [-c]`; one count prints a bare number, several are padded like GNU wc."""

    argv: tuple[str, ...]
    linear: ClassVar[bool] = True  # cost bounded by the input: runs in-process
    fields: tuple[str, ...] = ("l", "w", "c")

    def apply(self, text: str) -> FilterOutput:
        values = {"l": text.count("\n"), "w": len(text.split()), "c": len(text.encode())}
        counts = [values[f] for f in self.fields]
        if len(counts) == 1:
            return FilterOutput(0, f"{counts[0]}\n")
        return FilterOutput(0, " ".join(f"{c:7d}" for c in counts) + "\n")


def parse_wc(argv: list[str]) -> WcFilter:
    """`wc` with -l/--lines, -w/--words, -c/--bytes (printed in GNU order l, w, c)."""
    opts = _getopt("wc", argv, "lwc", {"lines": "l", "words": "w", "bytes": "c"}, "-l -w -c")
    fields = tuple(f for f in ("l", "w", "c") if f in opts)
    return WcFilter(tuple(argv), fields or ("l", "w", "c"))


@dataclass(frozen=True)
class SortFilter:
    """`sort [-r] [-n|-h] [-u] [-k N[,M]] [-t SEP]`; -h knows k/M/G/T suffixes and m (millicores)."""

    argv: tuple[str, ...]
    linear: ClassVar[bool] = True  # cost bounded by the input: runs in-process
    reverse: bool = False
    numeric: bool = False
    human: bool = False
    unique: bool = False
    key: tuple[int, int | None] | None = None
    separator: str | None = None

    def _key_text(self, line: str) -> str:
        if self.key is None:
            return line
        fields = line.split(self.separator) if self.separator else line.split()
        start, end = self.key
        return (self.separator or " ").join(fields[start - 1 : end])

    def _primary(self, line: str) -> tuple[float, str] | str:
        text = self._key_text(line)
        if self.human:
            m = _HUMAN.match(text)
            if not m:
                return (0.0, "")
            base = 1024.0 ** " KMGTPE".index(m.group(2).upper()) if m.group(3) else _SCALE[m.group(2)]
            return (float(m.group(1)) * base, "")
        if self.numeric:
            m = _NUMBER.match(text)
            return (float(m.group(1)) if m else 0.0, "")
        return text

    def apply(self, text: str) -> FilterOutput:
        lines = sorted(split_lines(text), key=lambda ln: (self._primary(ln), ln), reverse=self.reverse)
        if self.unique:
            deduped: list[str] = []
            for line in lines:
                if not deduped or self._primary(deduped[-1]) != self._primary(line):
                    deduped.append(line)
            lines = deduped
        return FilterOutput(0, join_lines(lines))


def parse_sort(argv: list[str]) -> SortFilter:
    """Validate sort options; -o (write a file) and -T (temp dir) are not supported."""
    opts = _getopt(
        "sort", argv, "rnhuk:t:",
        {"reverse": "r", "numeric-sort": "n", "human-numeric-sort": "h", "unique": "u", "key=": "k",
         "field-separator=": "t"},
        "-r -n -h -u -k N[,M] -t SEP",
    )
    key = None
    if "k" in opts:
        m = re.fullmatch(r"(\d+)(?:,(\d+))?", opts["k"])
        if not m or int(m.group(1)) < 1:
            raise FilterUsageError(f"sort: invalid key {opts['k']!r} (use -k N or -k N,M)")
        key = (int(m.group(1)), int(m.group(2)) if m.group(2) else None)
    sep = opts.get("t")
    if sep is not None and len(sep) != 1:
        raise FilterUsageError("sort: the field separator must be a single character")
    return SortFilter(
        tuple(argv), reverse="r" in opts, numeric="n" in opts, human="h" in opts,
        unique="u" in opts, key=key, separator=sep,
    )


@dataclass(frozen=True)
class UniqFilter:
    """`uniq [-c] [-d] [-u]` over adjacent equal lines (pipe through `sort` first, as usual)."""

    argv: tuple[str, ...]
    linear: ClassVar[bool] = True  # cost bounded by the input: runs in-process
    count: bool = False
    repeated: bool = False
    unique: bool = False

    def apply(self, text: str) -> FilterOutput:
        out = []
        for line, group in itertools.groupby(split_lines(text)):
            n = sum(1 for _ in group)
            if (self.repeated and n < 2) or (self.unique and n > 1):
                continue
            out.append(f"{n:7d} {line}" if self.count else line)
        return FilterOutput(0, join_lines(out))


def parse_uniq(argv: list[str]) -> UniqFilter:
    """`uniq` with -c/--count, -d/--repeated, -u/--unique; no input/output file operands."""
    opts = _getopt("uniq", argv, "cdu", {"count": "c", "repeated": "d", "unique": "u"}, "-c -d -u")
    return UniqFilter(tuple(argv), count="c" in opts, repeated="d" in opts, unique="u" in opts)


FILTERS: dict[str, Callable[[list[str]], Filter]] = {
    "grep": parse_grep,
    "head": parse_head,
    "tail": parse_tail,
    "wc": parse_wc,
    "sort": parse_sort,
    "uniq": parse_uniq,
    "jq": parse_jq,
    "awk": parse_awk,
    "cut": parse_cut,
}
FILTER_NAMES = tuple(FILTERS)


def parse_filter(argv: list[str]) -> Filter:
    """Validate one pipeline stage after a `|`; raises FilterUsageError with an agent-readable reason."""
    if not argv or argv[0] not in FILTERS:
        name = argv[0] if argv else ""
        raise FilterUsageError(
            f"`{name}` is not an allowed filter; after a pipe only {', '.join(FILTER_NAMES)} may run"
        )
    return FILTERS[argv[0]](argv)

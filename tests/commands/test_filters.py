"""grep/head/tail/wc/sort/uniq: GNU-compatible output on text, refusal of files and odd options."""

from __future__ import annotations

import pytest

from atlas_sre.commands import FilterUsageError, parse_filter
from atlas_sre.commands.grep import translate_regex

TEXT = "alpha ERROR one\nbeta ok\ngamma error two\ndelta ok\nepsilon fatal\nzeta ok\n"


def run(argv: str, text: str = TEXT) -> tuple[int, str]:
    out = parse_filter(argv.split(" "))
    return out.apply(text)[:2]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ("grep error", (0, "gamma error two\n")),
        ("grep -i error", (0, "alpha ERROR one\ngamma error two\n")),
        ("grep -v ok", (0, "alpha ERROR one\ngamma error two\nepsilon fatal\n")),
        ("grep -c ok", (0, "3\n")),
        ("grep -c missing", (1, "0\n")),
        ("grep -n fatal", (0, "5:epsilon fatal\n")),
        ("grep -in -e fatal -e ERROR", (0, "1:alpha ERROR one\n3:gamma error two\n5:epsilon fatal\n")),
        ("grep -n -e fatal -e ERROR", (0, "1:alpha ERROR one\n5:epsilon fatal\n")),
        ("grep -E error|fatal", (0, "gamma error two\nepsilon fatal\n")),
        ("grep error\\|fatal", (0, "gamma error two\nepsilon fatal\n")),
        ("grep error|fatal", (1, "")),
        ("grep -F a.p", (1, "")),
        ("grep -w ok", (0, "beta ok\ndelta ok\nzeta ok\n")),
        ("grep -w o", (1, "")),
        ("grep -o e[a-z]*r", (0, "error\n")),
        ("grep -m 1 ok", (0, "beta ok\n")),
        ("grep -A1 fatal", (0, "epsilon fatal\nzeta ok\n")),
        ("grep -B 1 -n fatal", (0, "4-delta ok\n5:epsilon fatal\n")),
        ("grep -C1 beta", (0, "alpha ERROR one\nbeta ok\ngamma error two\n")),
        ("grep -A0 -e alpha -e epsilon", (0, "alpha ERROR one\nepsilon fatal\n")),
        ("grep -A1 -e alpha -e epsilon", (0, "alpha ERROR one\nbeta ok\n--\nepsilon fatal\nzeta ok\n")),
        ("grep [[:digit:]]", (1, "")),
        ("grep -- -x", (1, "")),
        ("head -n 2", (0, "alpha ERROR one\nbeta ok\n")),
        ("head -2", (0, "alpha ERROR one\nbeta ok\n")),
        ("head -n -5", (0, "alpha ERROR one\n")),
        ("head", (0, TEXT)),
        ("tail -n 1", (0, "zeta ok\n")),
        ("tail -2", (0, "epsilon fatal\nzeta ok\n")),
        ("tail -n +6", (0, "zeta ok\n")),
        ("wc -l", (0, "6\n")),
        ("wc -w", (0, "14\n")),
        ("wc -c", (0, f"{len(TEXT)}\n")),
        ("wc", (0, f"      6      14 {len(TEXT):7d}\n")),
    ],
)
def test_filters(argv: str, expected: tuple[int, str]) -> None:
    assert run(argv) == expected


def test_grep_line_regexp_and_quoted_pattern() -> None:
    assert parse_filter(["grep", "-x", "beta ok"]).apply(TEXT)[:2] == (0, "beta ok\n")
    assert parse_filter(["grep", "$(touch x)"]).apply("a\n$(touch x)\n")[:2] == (0, "$(touch x)\n")


def test_sort_and_uniq() -> None:
    text = "b 10\na 9\nc 100\na 9\n"
    assert parse_filter(["sort"]).apply(text).stdout == "a 9\na 9\nb 10\nc 100\n"
    assert parse_filter(["sort", "-k2", "-n"]).apply(text).stdout == "a 9\na 9\nb 10\nc 100\n"
    assert parse_filter(["sort", "-k", "2,2", "-n", "-r"]).apply(text).stdout == "c 100\nb 10\na 9\na 9\n"
    assert parse_filter(["sort", "-u"]).apply(text).stdout == "a 9\nb 10\nc 100\n"
    assert parse_filter(["sort", "-t", " ", "-k2"]).apply(text).stdout == "b 10\nc 100\na 9\na 9\n"
    top = "p1 250m 1Gi\np2 1 512Mi\np3 20m 2Gi\n"
    assert parse_filter(["sort", "-k2", "-h"]).apply(top).stdout == "p3 20m 2Gi\np1 250m 1Gi\np2 1 512Mi\n"
    assert parse_filter(["sort", "-k3", "-h", "-r"]).apply(top).stdout == "p3 20m 2Gi\np1 250m 1Gi\np2 1 512Mi\n"
    counted = parse_filter(["uniq", "-c"]).apply("a\na\nb\na\n").stdout
    assert counted == "      2 a\n      1 b\n      1 a\n"
    assert parse_filter(["uniq", "-d"]).apply("a\na\nb\n").stdout == "a\n"
    assert parse_filter(["uniq", "-u"]).apply("a\na\nb\n").stdout == "b\n"


def test_empty_input_and_missing_final_newline() -> None:
    assert parse_filter(["wc", "-l"]).apply("").stdout == "0\n"
    assert parse_filter(["grep", "x"]).apply("")[:2] == (1, "")
    assert parse_filter(["head", "-n", "1"]).apply("a\nb").stdout == "a\n"
    assert parse_filter(["tail", "-n", "1"]).apply("a\nb").stdout == "b\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["grep", "-r", "x"],
        ["grep", "-f", "/etc/passwd"],
        ["grep", "x", "file"],
        ["grep"],
        ["grep", "-E", "("],
        ["grep", "-A", "x", "y"],
        ["head", "file"],
        ["head", "-n", "abc"],
        ["tail", "-f"],
        ["tail", "-n", "1", "file"],
        ["sort", "-o", "out"],
        ["sort", "-k", "0"],
        ["sort", "-t", "ab"],
        ["uniq", "in", "out"],
        ["wc", "file"],
        ["cat"],
        ["/bin/grep", "x"],
    ],
)
def test_usage_errors(argv: list[str]) -> None:
    with pytest.raises(FilterUsageError):
        parse_filter(argv)


def test_regex_translation() -> None:
    assert translate_regex(r"a\|b", extended=False) == "a|b"
    assert translate_regex("a|b", extended=False) == r"a\|b"
    assert translate_regex("(x)+", extended=True) == "(x)+"
    assert translate_regex(r"\(x\)", extended=True) == r"\(x\)"
    assert translate_regex("[[:space:]]x", extended=True) == r"[\s]x"
    assert translate_regex(r"\<word\>", extended=True) == r"\bword\b"
    assert translate_regex("*x", extended=False) == r"\*x"
    assert translate_regex("$(a)^", extended=False) == r"\$\(a\)\^"
    assert translate_regex("^a$", extended=False) == "^a$"
    assert translate_regex(r"\(^a$\)\|^b$", extended=False) == "(^a$)|^b$"
    assert translate_regex("^a$", extended=True) == "^a$"

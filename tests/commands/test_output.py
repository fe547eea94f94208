"""Truncation keeps head and tail within budgets and says what it cut."""

from __future__ import annotations

import re

from atlas_sre.commands import truncate_output
from atlas_sre.commands.output import join_streams

MARKER = re.compile(r"^\.\.\. \[(\d+) lines / (\d+) bytes cut\] \.\.\.$", re.M)


def test_small_output_is_untouched() -> None:
    text = "a\nb\n"
    assert truncate_output(text, 1000, 10) == (text, False)
    assert truncate_output("", 1000, 10) == ("", False)


def test_line_budget_keeps_head_and_tail() -> None:
    text = "".join(f"line {i}\n" for i in range(100))
    out, truncated = truncate_output(text, 100_000, 11)
    lines = out.splitlines()
    assert truncated and len(lines) == 11
    assert lines[:5] == [f"line {i}" for i in range(5)]
    assert lines[-5:] == [f"line {i}" for i in range(95, 100)]
    m = MARKER.search(out)
    assert m and int(m.group(1)) == 90
    assert int(m.group(2)) == len(text) - len("".join(lines[:5] + lines[-5:])) - 10


def test_byte_budget_on_one_huge_line() -> None:
    text = '{"items": [' + ",".join(f'"{i}"' for i in range(20_000)) + "]}\n"
    out, truncated = truncate_output(text, 2_000, 400)
    assert truncated and len(out.encode()) <= 2_000 + 80
    assert out.startswith('{"items": ["0","1"') and out.endswith('"19999"]}\n')
    m = MARKER.search(out)
    assert m and int(m.group(2)) > len(text) - 2_000


def test_byte_budget_with_many_lines_prefers_line_boundaries() -> None:
    text = "".join(f"{i:05d} " + "y" * 94 + "\n" for i in range(300))
    out, truncated = truncate_output(text, 4_096, 400)
    assert truncated and len(out.encode()) <= 4_096 + 80
    head, _, tail = MARKER.split(out, maxsplit=1)[0], None, out.rsplit("\n", 2)[-2]
    assert head.startswith("00000 ") and head.endswith("\n") and tail.startswith("00299 ")


def test_multibyte_text_is_cut_on_character_boundaries() -> None:
    out, truncated = truncate_output("é" * 10_000, 1_000, 10)
    assert truncated
    out.encode("utf-8")  # no surrogates or broken characters


def test_join_streams() -> None:
    assert join_streams("out", "err\n") == "out\nerr\n"
    assert join_streams("out\n", "", "e2\n") == "out\ne2\n"
    assert join_streams("", "err\n") == "err\n"

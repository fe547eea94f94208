"""The jq subset: jq-compatible results and errors, refusal of everything outside the subset."""

from __future__ import annotations

import json
from typing import Any

import pytest

from atlas_sre.commands import FilterUsageError, parse_filter

PODS = {
    "items": [
        {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "web"}},
         "status": {"phase": "Running", "restarts": 0}},
        {"metadata": {"name": "b", "labels": {}}, "status": {"phase": "Pending", "restarts": 3}},
        {"metadata": {"name": "c"}, "status": {"phase": "Failed", "restarts": 12}},
    ]
}


def jq(program: str, data: Any = PODS, *flags: str) -> tuple[int, str, str]:
    return tuple(parse_filter(["jq", *flags, program]).apply(json.dumps(data)))  # type: ignore[return-value]


def values(program: str, data: Any = PODS) -> list[Any]:
    code, out, err = jq(program, data, "-c")
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        (".items[].metadata.name", ["a", "b", "c"]),
        (".items[0].metadata.name", ["a"]),
        (".items[-1].metadata.name", ["c"]),
        (".items[5]", [None]),
        (".missing.deeper", [None]),
        (".items | length", [3]),
        (".items[0].metadata | keys", [["labels", "name"]]),
        ('.items[] | select(.status.phase == "Running") | .metadata.name', ["a"]),
        ('.items[] | select(.status.phase != "Running") | .metadata.name', ["b", "c"]),
        (".items[] | select(.status.restarts > 2) | .metadata.name", ["b", "c"]),
        ('.items[] | select(.status.restarts >= 3 and .status.phase == "Failed") | .metadata.name', ["c"]),
        ('.items[] | select(.status.phase == "Failed" or .status.restarts == 0) | .metadata.name', ["a", "c"]),
        ('.items[0].metadata.labels["app.kubernetes.io/name"]', ["web"]),
        ('.items[0].metadata."name"', ["a"]),
        (".items | map(.metadata.name)", [["a", "b", "c"]]),
        ("[.items[].status.restarts]", [[0, 3, 12]]),
        (".items[] | {name: .metadata.name, phase: .status.phase}",
         [{"name": "a", "phase": "Running"}, {"name": "b", "phase": "Pending"}, {"name": "c", "phase": "Failed"}]),
        (".items[0] | {metadata}", [{"metadata": PODS["items"][0]["metadata"]}]),
        (".items[2].metadata.labels // \"none\"", ["none"]),
        (".items[].metadata.labels | length", [1, 0, 0]),
        (".items[0].metadata.name, .items[1].metadata.name", ["a", "b"]),
        ('.items[] | select(.metadata.name | test("^[ab]$")) | .metadata.name', ["a", "b"]),
        ('.items[] | .metadata.name | startswith("a")', [True, False, False]),
        ('[.items[].metadata.name] | join(",")', ["a,b,c"]),
        ("[.items[].status.restarts] | sort | first", [0]),
        (".items[0].metadata.labels | to_entries", [[{"key": "app.kubernetes.io/name", "value": "web"}]]),
        (".items[0] | has(\"status\")", [True]),
        (".items[].metadata.labels[]?", ["web"]),
        (".[]?", [PODS["items"]]),
        ("1 == 1.0", [True]),
        ("null == false", [False]),
        (".items[0].status | not", [False]),
        ("empty", []),
        (".", [PODS]),
    ],
)
def test_programs(program: str, expected: list[Any]) -> None:
    assert values(program) == expected


def test_raw_output_and_interpolation() -> None:
    code, out, _ = jq('.items[] | "\\(.metadata.name) \\(.status.phase) \\(.status.restarts)"', PODS, "-r")
    assert (code, out) == (0, "a Running 0\nb Pending 3\nc Failed 12\n")
    assert jq(".items[0].metadata.name", PODS)[1] == '"a"\n'
    assert jq(".items[0].status", PODS)[1] == '{\n  "phase": "Running",\n  "restarts": 0\n}\n'


def test_multiple_documents_and_empty_input() -> None:
    f = parse_filter(["jq", "-c", ".a"])
    assert f.apply('{"a": 1}\n{"a": [2]}\n').stdout == "1\n[2]\n"
    assert tuple(f.apply("")) == (0, "", "")


def test_runtime_and_parse_errors() -> None:
    code, out, err = jq(".items[].metadata.labels[]", PODS)
    assert code == 5 and out == '"web"\n' and "Cannot iterate over null" in err
    code, _, err = jq(".items.name", PODS)
    assert code == 5 and 'Cannot index array with "name"' in err
    code, _, err = tuple(parse_filter(["jq", "."]).apply("NAME  READY\npod-a 1/1\n"))
    assert code == 2 and "add -o json" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["jq", "$ENV"],
        ["jq", "env"],
        ["jq", "input"],
        ["jq", ".a | @base64d"],
        ["jq", "..|.a"],
        ["jq", ".a +"],
        ["jq", ".[1:2]"],
        ["jq", "-f", "prog"],
        ["jq", "--arg", "a", "b", "."],
        ["jq", ".", "file.json"],
        ["jq", ".a)"],
        ["jq", '"unterminated'],
        ["jq", "def f: .; f"],
    ],
)
def test_outside_the_subset_is_refused(argv: list[str]) -> None:
    with pytest.raises(FilterUsageError):
        parse_filter(argv)

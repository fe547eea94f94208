"""The kubectl corpus: load `corpus.yaml`, fill placeholders from the served state, check outputs.

Kept apart from the test module so the format (README.md) has one reader, and a malformed entry
fails at collection with its name rather than as a confusing assertion later.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
CORPUS = HERE / "corpus.yaml"
EXPECT_KEYS = {"exit", "header", "contains", "absent", "matches", "not_matches", "min_lines", "max_lines",
               "stderr_contains", "stderr_absent", "stderr_matches"}
ENTRY_KEYS = {"name", "scenario", "argv", "feature", "timeout", "note", *EXPECT_KEYS}
# Never acceptable from kubectl against a healthy API server: client-go reflector errors (a watch
# or list the server refused) and Go panics.
ALWAYS_ABSENT_STDERR = ("Unhandled Error", "goroutine ", "invalid memory address")
PLACEHOLDER = re.compile(r"\{(pod|node):([^{}]*)\}")


@dataclass(frozen=True)
class Entry:
    """One kubectl command and what a real cluster's answer must (not) contain."""

    name: str
    scenario: str
    argv: tuple[str, ...]
    feature: str | None = None
    timeout: float = 20.0
    expect: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"[{self.feature}] {self.name}" if self.feature else self.name


def scenario_aliases(path: Path = CORPUS) -> dict[str, str]:
    """The corpus's scenario aliases (`crash`, `mesh`, ...) -> scenario name or path, for other tests."""
    return {alias: _scenario_ref(ref) for alias, ref in yaml.safe_load(path.read_text())["scenarios"].items()}


def load_corpus(path: Path = CORPUS) -> tuple[dict[str, str], list[Entry]]:
    """(scenario alias -> scenario name or path, entries); raises ValueError on a malformed file."""
    doc = yaml.safe_load(path.read_text())
    scenarios = {alias: _scenario_ref(ref) for alias, ref in doc["scenarios"].items()}
    entries, seen = [], set()
    for raw in doc["entries"]:
        name = raw.get("name", "?")
        unknown = set(raw) - ENTRY_KEYS
        if unknown:
            raise ValueError(f"corpus entry {name}: unknown keys {sorted(unknown)}")
        if name in seen:
            raise ValueError(f"corpus entry {name}: duplicate name")
        if raw.get("scenario") not in scenarios:
            raise ValueError(f"corpus entry {name}: unknown scenario {raw.get('scenario')!r}")
        # YAML reads a bare `no`/`on`/`1` as a bool or int: insist on strings so argv is what was meant
        if not isinstance(raw.get("argv"), list) or not raw["argv"] or not all(isinstance(a, str) for a in raw["argv"]):
            raise ValueError(f"corpus entry {name}: argv must be a non-empty list of strings (quote 'no', 'on')")
        for pattern in (*raw.get("matches", ()), *raw.get("not_matches", ()), *raw.get("stderr_matches", ())):
            re.compile(pattern)
        seen.add(name)
        entries.append(Entry(name=name, scenario=raw["scenario"], argv=tuple(raw["argv"]),
                             feature=raw.get("feature"), timeout=float(raw.get("timeout", 20)),
                             expect={k: v for k, v in raw.items() if k in EXPECT_KEYS}))
    return scenarios, entries


def _scenario_ref(ref: str) -> str:
    """A built-in/library name stays as is; a `.yaml` path is relative to this folder."""
    return str(HERE / ref) if ref.endswith(".yaml") else ref


def _matches(labels: dict[str, str], selector: str) -> bool:
    pairs = [p.split("=", 1) for p in selector.split(",") if p]
    return all(labels.get(k) == v for k, v in pairs)


def resolve(text: str, state: Any, escape: bool = False) -> str:
    """Fill `{pod:NS:k=v,...}` (first matching pod by name) and `{node:k=v}` (first matching node)."""
    def one(m: re.Match[str]) -> str:
        kind, arg = m.groups()
        if kind == "pod":
            ns, _, selector = arg.partition(":")
            objs = [o for o in state.objects if o.get("kind") == "Pod" and o["metadata"].get("namespace") == ns]
        else:
            selector = arg
            objs = [o for o in state.objects if o.get("kind") == "Node"]
        names = sorted(o["metadata"]["name"] for o in objs if _matches(o["metadata"].get("labels") or {}, selector))
        if not names:
            raise LookupError(f"no {kind} matches {arg!r} in the served scenario")
        return re.escape(names[0]) if escape else names[0]

    return PLACEHOLDER.sub(one, text)


def problems(entry: Entry, result: subprocess.CompletedProcess[str], state: Any) -> list[str]:
    """Every way `result` differs from what the entry says a real cluster prints (empty: it matches)."""
    exp, out, err = entry.expect, result.stdout, result.stderr
    found: list[str] = []
    want_exit = exp.get("exit", 0)
    if result.returncode != want_exit:
        found.append(f"exit code {result.returncode}, expected {want_exit}")
    lines = out.splitlines()
    if "header" in exp:
        got = lines[0].split() if lines else []
        if got != exp["header"].split():
            found.append(f"header {' '.join(got)!r}, expected {exp['header']!r}")
    for text, stream, where in ((out, "contains", "stdout"), (err, "stderr_contains", "stderr")):
        for s in exp.get(stream, ()):
            if resolve(s, state) not in text:
                found.append(f"{where} lacks {resolve(s, state)!r}")
    for s in exp.get("absent", ()):
        if resolve(s, state) in out:
            found.append(f"stdout has {resolve(s, state)!r}")
    for s in (*exp.get("stderr_absent", ()), *ALWAYS_ABSENT_STDERR):
        if s in err:
            found.append(f"stderr has {s!r}")
    for text, stream, where in ((out, "matches", "stdout"), (err, "stderr_matches", "stderr")):
        for pattern in exp.get(stream, ()):
            if not re.search(resolve(pattern, state, escape=True), text, re.MULTILINE):
                found.append(f"{where} does not match /{pattern}/")
    for pattern in exp.get("not_matches", ()):
        if re.search(resolve(pattern, state, escape=True), out, re.MULTILINE):
            found.append(f"stdout matches /{pattern}/")
    if len(lines) < exp.get("min_lines", 0):
        found.append(f"{len(lines)} stdout lines, expected at least {exp['min_lines']}")
    if "max_lines" in exp and len(lines) > exp["max_lines"]:
        found.append(f"{len(lines)} stdout lines, expected at most {exp['max_lines']}")
    return found

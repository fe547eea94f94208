"""Where scenarios live: built-in files shipped in the package, or any file/folder the user names.

A SCENARIO argument anywhere in the CLI is a path (file, or folder holding `scenario.yaml`) or the
name of a built-in scenario; unknown names get an error listing what exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from atlas_sre.scenarios.loader import ScenarioError, load_path
from atlas_sre.scenarios.model import Scenario

BUILTIN_DIRS = [Path(__file__).parent / "builtin", Path(__file__).parent / "library"]


def builtin_paths() -> list[Path]:
    """Every built-in scenario file, sorted by name (hand-written first, then the generated library)."""
    out: list[Path] = []
    for d in BUILTIN_DIRS:
        if d.is_dir():
            out.extend(sorted(d.glob("*.yaml")))
    return out


def builtin_names() -> list[str]:
    """Names of the built-in scenarios (their file stems, which equal metadata.name)."""
    return [p.stem for p in builtin_paths()]


def find(name_or_path: str) -> Path:
    """Resolve a SCENARIO argument to a file path."""
    p = Path(name_or_path)
    if p.exists():
        return p / "scenario.yaml" if p.is_dir() else p
    for candidate in builtin_paths():
        if candidate.stem == name_or_path:
            return candidate
    names = builtin_names()
    shown = ", ".join(names[:12]) + (f", … ({len(names)} in all)" if len(names) > 12 else "")
    raise ScenarioError(name_or_path, None, "", f"no such file or built-in scenario (built-ins: {shown})")


def load(name_or_path: str) -> Scenario:
    """Load a scenario by path or built-in name."""
    return load_path(find(name_or_path))


def expand_paths(args: list[str]) -> Iterator[Path]:
    """Files named by CLI arguments: files, folders (recursively, `*.yaml`), or built-in names."""
    for arg in args:
        p = Path(arg)
        if p.is_dir() and not (p / "scenario.yaml").exists():
            yield from sorted(p.rglob("*.yaml"))
        else:
            yield find(arg)


def summary(scenario: Scenario) -> dict[str, Any]:
    """The listing row: name, app, fault ids, labels (what `scenarios list --json` prints)."""
    labels = dict(scenario.metadata.labels)
    return {
        "name": scenario.metadata.name,
        "app": scenario.spec.app or labels.get("app"),
        # injected faults, or (hand-written scenarios) the catalogue ids named in the `fault` label
        "faults": [f.id for f in scenario.spec.faults] or [x for x in labels.get("fault", "").split(",") if x],
        "labels": labels,
    }

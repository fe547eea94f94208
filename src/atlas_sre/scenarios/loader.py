"""Load and validate scenario files with errors that point at a file, a line and a path.

Errors read like a compiler's: `scenario.yaml:12: spec.manifests[3]: Deployment has no
spec.selector`, so an author can jump straight to the mistake.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from atlas_sre.scenarios.manifests import check_manifests
from atlas_sre.scenarios.model import API_VERSION, Scenario

Loc = tuple[str | int, ...]


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; `str()` is one line: `file:line: path: message`."""

    def __init__(self, file: str, line: int | None, where: str, message: str) -> None:
        self.file, self.line, self.where, self.message = file, line, where, message
        prefix = f"{file}:{line}" if line else file
        super().__init__(f"{prefix}: {where}: {message}" if where else f"{prefix}: {message}")


def _line_map(node: yaml.Node, loc: Loc = (), out: dict[Loc, int] | None = None) -> dict[Loc, int]:
    """Map every path in a composed YAML document to its 1-based line."""
    out = {} if out is None else out
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = loc + (str(key.value),)
            out[sub] = key.start_mark.line + 1
            _line_map(value, sub, out)
            out[sub] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, loc + (i,), out)
    return out


def format_loc(loc: Loc) -> str:
    """`('spec', 'manifests', 3, 'spec')` → `spec.manifests[3].spec`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _nearest_line(lines: dict[Loc, int], loc: Loc) -> int | None:
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc)


def load_text(text: str, file: str = "<scenario>") -> Scenario:
    """Parse and validate one scenario document."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(file, mark.line + 1 if mark else None, "", f"invalid YAML: {problem}") from None
    if node is None or not isinstance(data, dict):
        raise ScenarioError(file, 1, "", "expected a mapping with apiVersion, kind, metadata, spec")
    lines = _line_map(node)
    if data.get("apiVersion") != API_VERSION:
        raise ScenarioError(file, lines.get(("apiVersion",), 1), "apiVersion",
                            f"expected {API_VERSION!r}, got {data.get('apiVersion')!r}")
    if data.get("kind") != "Scenario":
        got = data.get("kind")
        raise ScenarioError(file, lines.get(("kind",), 1), "kind", f"expected 'Scenario', got {got!r}")
    try:
        # By field name only: the file has one spelling even where grading accepts others (`root_causes`).
        scenario = Scenario.model_validate(data, by_alias=False, by_name=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        msg = err["msg"]
        if err["type"] == "missing":
            msg = f"missing required field {loc[-1]!r}"
            loc = loc[:-1]
        elif err["type"] == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}"
        raise ScenarioError(file, _nearest_line(lines, loc), format_loc(loc), msg) from None
    for loc, msg in check_manifests(scenario.spec.manifests, prefix=("spec", "manifests")):
        raise ScenarioError(file, _nearest_line(lines, loc), format_loc(loc), msg)
    return scenario


def load_path(path: str | Path) -> Scenario:
    """Load a scenario file, or a folder holding `scenario.yaml`."""
    p = Path(path)
    if p.is_dir():
        p = p / "scenario.yaml"
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(str(p), None, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(p), None, "", f"cannot read: {exc}") from None
    return load_text(text, file=str(p))


def dump_scenario(scenario: Scenario) -> str:
    """Serialise a scenario to YAML deterministically (sorted keys off, defaults dropped)."""
    data: dict[str, Any] = scenario.model_dump(mode="json", exclude_defaults=True)
    data = {"apiVersion": API_VERSION, "kind": "Scenario", **data}
    return yaml.safe_dump(data, sort_keys=False, width=120, allow_unicode=True)

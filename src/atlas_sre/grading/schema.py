"""The diagnosis JSON schema as tools and grammars need it: self-contained and without prose.

Why here: every way an answer reaches the grader (an LLM student's `submit_diagnosis` tool, a
constrained final turn, the MCP server's tool, the Inspect task) must offer the one schema the
grader parses (`diagnosis.Diagnosis`), written out the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from atlas_sre.grading.diagnosis import Diagnosis


def strip_docs(node: Any) -> Any:
    """A schema without pydantic's titles and docstrings: they cost a model tokens and say nothing."""
    if isinstance(node, dict):
        return {k: strip_docs(v) for k, v in node.items() if k not in ("title", "description")}
    if isinstance(node, list):
        return [strip_docs(v) for v in node]
    return node


def inline_refs(node: Any, defs: Mapping[str, Any]) -> Any:
    """`$ref`s to `#/$defs/...` replaced by their definitions, so the schema can be nested anywhere (a
    tool's parameters, an action schema) and still resolve; some MCP clients do not resolve `$ref` at all."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return inline_refs(defs[ref.rsplit("/", 1)[1]], defs)
        return {k: inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [inline_refs(v, defs) for v in node]
    return node


@cache
def _schema_text() -> str:
    schema = Diagnosis.model_json_schema()
    return json.dumps(strip_docs(inline_refs(schema, schema.get("$defs", {}))))


def diagnosis_schema() -> dict[str, Any]:
    """The JSON schema of `Diagnosis`, self-contained (a fresh copy: callers may change it)."""
    return json.loads(_schema_text())  # type: ignore[no-any-return]

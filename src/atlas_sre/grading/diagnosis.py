"""The Diagnosis every agent submits (ITBench-Lite compatible) and a forgiving parser for it.

Models get the JSON almost right: fenced, wrapped in prose, a trailing comma, Python quotes, a
kind written the way kubectl prints it. Losing a correct diagnosis to punctuation would measure
formatting, not root-cause analysis, so `parse_diagnosis` repairs what is unambiguous and raises
`DiagnosisError` (one line, fit for a log or for feeding back to the model) for everything else.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from atlas_sre.grading.topology import normalize_entity

_DIAGNOSIS_KEYS = frozenset({"entities", "propagations", "category", "summary"})


class DiagnosisError(ValueError):
    """An answer that cannot be read as a Diagnosis; the message is a single line."""


def _blank_if_none(value: Any) -> Any:
    """`null` for a text field means "nothing to say"; store it as the empty string."""
    return "" if value is None else value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_blank_if_none)]
"""Free text a model may send as `null`."""


class Entity(BaseModel):
    """An entity the agent names. `contributing_factor` true = the agent calls it a root cause.

    The flag defaults to true: an agent that lists an entity without the flag is asserting it,
    and ITBench-Lite asks agents to list only the irreducible causes as contributing.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: Annotated[str, BeforeValidator(_strip)] = Field(
        min_length=1, validation_alias=AliasChoices("name", "id", "entity")
    )
    contributing_factor: bool = Field(
        default=True, validation_alias=AliasChoices("contributing_factor", "root_cause")
    )
    reasoning: Text = ""
    evidence: Text = ""


class Propagation(BaseModel):
    """One hop of the fault chain as the agent sees it: source's condition causes target's effect."""

    model_config = ConfigDict(extra="ignore")

    source: str
    target: str
    condition: Text = ""
    effect: Text = ""


class Diagnosis(BaseModel):
    """The structured answer: entities (root causes flagged), propagation chain, category, summary."""

    model_config = ConfigDict(extra="ignore")

    entities: list[Entity] = Field(default_factory=list)
    propagations: list[Propagation] = Field(default_factory=list)
    category: Text = ""
    summary: Text = ""

    @field_validator("entities", mode="before")
    @classmethod
    def _bare_names(cls, value: Any) -> Any:
        """A bare string in `entities` is an entity named so (a common shorthand in model output)."""
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @property
    def root_causes(self) -> list[str]:
        """Names of the entities flagged as contributing factors, in the order given."""
        return [e.name for e in self.entities if e.contributing_factor]


# --- JSON extraction and repair ------------------------------------------------------------------


def _closing_brace(text: str, start: int, quotes: str) -> int:
    """Index of the `}` closing the `{` at `start`, skipping braces inside `quotes`; -1 if none."""
    depth, quote, escaped = 0, "", False
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in quotes:
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _balanced_objects(text: str) -> tuple[list[str], bool]:
    """Top-level `{...}` spans of `text`, and whether some `{` was never closed.

    Scanning for braces ignores code fences and prose on either side for free. Quotes of both
    kinds hide braces; if that leaves the object open (an apostrophe inside a single-quoted
    string), double quotes alone are tried, so the span still reaches the repair step.
    """
    spans: list[str] = []
    unclosed = False
    start = text.find("{")
    while start != -1:
        end = _closing_brace(text, start, "\"'")
        if end == -1:
            end = _closing_brace(text, start, '"')
        if end == -1:
            unclosed = True
            start = text.find("{", start + 1)
        else:
            spans.append(text[start : end + 1])
            start = text.find("{", end + 1)
    return spans, unclosed


def _repair(src: str) -> str:
    """One quote-aware pass: 'single' -> "double" strings, drop trailing commas, True/False/None.

    Every rewrite happens outside string literals only, so text inside the model's reasoning is
    never touched. Whether the result is valid is left to `json.loads`.
    """
    out: list[str] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch in "\"'":
            j, buf = i + 1, []
            while j < n and src[j] != ch:
                if src[j] == "\\" and j + 1 < n:
                    buf.append("'" if src[j + 1] == "'" else src[j : j + 2])
                    j += 2
                    continue
                buf.append('\\"' if src[j] == '"' else src[j])
                j += 1
            out.append('"' + "".join(buf) + '"')
            i = j + 1
        elif ch == ",":
            j = i + 1
            while j < n and src[j].isspace():
                j += 1
            if j >= n or src[j] not in "]}":
                out.append(ch)
            i += 1
        elif ch.isalpha():
            j = i
            while j < n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            word = src[i:j]
            out.append({"True": "true", "False": "false", "None": "null"}.get(word, word))
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _decode(span: str) -> Any:
    """Strict JSON first, then the repaired text; raises the repaired attempt's error."""
    try:
        return json.loads(span)
    except json.JSONDecodeError:
        return json.loads(_repair(span))


def _find_payload(text: str) -> dict[str, Any]:
    """The last JSON object in `text` that looks like a diagnosis (the answer usually comes last)."""
    spans, unclosed = _balanced_objects(text)
    last_error: json.JSONDecodeError | None = None
    for span in reversed(spans):
        try:
            data = _decode(span)
        except json.JSONDecodeError as exc:
            last_error = last_error or exc
            continue
        if isinstance(data, dict) and len(data) == 1:
            inner = next(iter(data.values()))  # {"diagnosis": {...}} wrapper
            if isinstance(inner, dict) and _DIAGNOSIS_KEYS & inner.keys():
                data = inner
        if isinstance(data, dict) and _DIAGNOSIS_KEYS & data.keys():
            return data
    if last_error is not None:
        raise DiagnosisError(f"diagnosis JSON could not be repaired: {last_error.msg} "
                             f"(line {last_error.lineno}, column {last_error.colno})")
    if unclosed:
        raise DiagnosisError("diagnosis JSON object is not closed (was the answer cut off?)")
    if spans:
        raise DiagnosisError("no JSON object with 'entities', 'propagations', 'category' or 'summary'")
    raise DiagnosisError("no JSON object found in the answer")


def _one_line(exc: ValidationError) -> str:
    """Pydantic's multi-line report squeezed to `loc: message; loc: message`."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "diagnosis"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def parse_diagnosis(text: str, default_namespace: str | None = None) -> Diagnosis:
    """Read a model's answer into a Diagnosis, repairing trivial mistakes.

    Repairs: Markdown fences and prose around the object, trailing commas, single-quoted strings,
    Python literals, a `{"diagnosis": {...}}` wrapper, bare-string entities, kind spellings
    (`svc`, `dr`, `deployment.apps`), and `Kind/name` without a namespace when `default_namespace`
    is given (never for cluster-scoped kinds). Raises DiagnosisError with a one-line message.
    """
    data = _find_payload(text)
    try:
        diagnosis = Diagnosis.model_validate(data)
    except ValidationError as exc:
        raise DiagnosisError(f"diagnosis does not match the schema: {_one_line(exc)}") from None
    for entity in diagnosis.entities:
        entity.name = normalize_entity(entity.name, default_namespace)
    for hop in diagnosis.propagations:
        hop.source = normalize_entity(hop.source, default_namespace)
        hop.target = normalize_entity(hop.target, default_namespace)
    return diagnosis


# --- rendering -----------------------------------------------------------------------------------


def _chains(hops: list[Propagation]) -> list[list[Propagation]]:
    """Split hops into runs where each hop starts where the previous one ended."""
    runs: list[list[Propagation]] = []
    for hop in hops:
        if runs and runs[-1][-1].target == hop.source:
            runs[-1].append(hop)
        else:
            runs.append([hop])
    return runs


def render_markdown(d: Diagnosis) -> str:
    """A diagnosis for people: root causes with evidence, the propagation chain, category, summary."""
    lines = ["## Diagnosis", ""]
    roots = [e for e in d.entities if e.contributing_factor]
    others = [e for e in d.entities if not e.contributing_factor]
    lines.append(f"**Category:** {d.category or 'not given'}")
    lines += ["", "### Root causes"]
    if not roots:
        lines.append("- none: no fault found")
    for e in roots:
        lines.append(f"- `{e.name}`" + (f": {e.reasoning}" if e.reasoning else ""))
        if e.evidence:
            lines.append(f"  - evidence: {e.evidence}")
    if others:
        lines += ["", "### Other entities (symptoms, not causes)"]
        lines += [f"- `{e.name}`" + (f": {e.reasoning}" if e.reasoning else "") for e in others]
    if d.propagations:
        lines += ["", "### Propagation"]
        for run in _chains(d.propagations):
            path = " → ".join([f"`{run[0].source}`"] + [f"`{h.target}`" for h in run])
            lines.append(f"- {path}")
            for h in run:
                detail = "; ".join(x for x in (h.condition, f"effect: {h.effect}" if h.effect else "") if x)
                if detail:
                    lines.append(f"  - `{h.source}` → `{h.target}`: {detail}")
    if d.summary:
        lines += ["", "### Summary", d.summary]
    return "\n".join(lines) + "\n"

"""Label and field selectors, parsed and matched the way the API server does.

kubectl relies on them for more than `-l`: `describe` finds a pod's events with
`fieldSelector=involvedObject.uid=...`, `describe deploy` lists ReplicaSets and `describe svc`
lists EndpointSlices by label selector, and `logs deploy/x` finds pods the same way. A selector
that does not parse is a 400 with a readable message, never a silent "match everything".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


class SelectorError(ValueError):
    """A selector that does not parse; the message is what the 400 Status says."""


_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_KEY_RE = re.compile(rf"^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_NAME}$")
_VALUE_RE = re.compile(rf"^(?:{_NAME})?$")


@dataclass(frozen=True)
class Requirement:
    """One label requirement: `key op values` (op: =, !=, in, notin, exists, !, gt, lt)."""

    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        has = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return has and value in self.values
        if self.op in ("!=", "notin"):
            return not has or value not in self.values
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        try:  # gt / lt compare integers; a non-integer label never matches
            number, bound = int(str(value)), int(self.values[0])
        except ValueError:
            return False
        return has and (number > bound if self.op == "gt" else number < bound)


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside `( )`."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def _check_key(key: str) -> str:
    if not key or len(key.rpartition("/")[2]) > 63 or not _KEY_RE.match(key):
        raise SelectorError(
            f"unable to parse requirement: key: Invalid value: {key!r}: name part must consist of alphanumeric "
            "characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        )
    return key


def _check_value(key: str, value: str) -> str:
    if len(value) > 63 or not _VALUE_RE.match(value):
        raise SelectorError(
            f"unable to parse requirement: values[0][{key}]: Invalid value: {value!r}: a valid label must be an "
            "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character"
        )
    return value


_SET_RE = re.compile(r"^\s*(\S+?)\s+(in|notin)\s*\((.*)\)\s*$")
_CMP_RE = re.compile(r"^\s*([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(\S*)\s*$")


def _parse_requirement(part: str) -> Requirement:
    text = part.strip()
    if not text:
        raise SelectorError("unable to parse requirement: found '', expected: identifier")
    if text.startswith("!"):
        return Requirement(_check_key(text[1:].strip()), "!")
    m = _SET_RE.match(text)
    if m:
        key, op, inner = m.groups()
        if not inner.strip():
            raise SelectorError("unable to parse requirement: values: Invalid value: []string{}: "
                                "for 'in', 'notin' operators, values set can't be empty")
        values = tuple(_check_value(key, v.strip()) for v in inner.split(","))
        return Requirement(_check_key(key), op, values)
    m = _CMP_RE.match(text)
    if m:
        key, op, value = m.groups()
        if op in (">", "<"):
            if not re.fullmatch(r"-?\d+", value):
                raise SelectorError(f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be "
                                    f"an integer: {value!r}")
            return Requirement(_check_key(key), "gt" if op == ">" else "lt", (value,))
        return Requirement(_check_key(key), "!=" if op == "!=" else "=", (_check_value(key, value),))
    if re.fullmatch(r"\S+", text):
        return Requirement(_check_key(text), "exists")
    raise SelectorError(f"unable to parse requirement: found {text!r}, expected: ',', '=', '!=', 'in', 'notin'")


def parse_label_selector(text: str | None) -> list[Requirement]:
    """`app=web,tier!=db,env in (a,b),!canary` → requirements (empty text: match everything)."""
    if not text or not text.strip():
        return []
    return [_parse_requirement(p) for p in _split_top(text)]


def match_labels(requirements: list[Requirement], obj: Obj) -> bool:
    """Whether an object's labels satisfy every requirement."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(r.matches(labels) for r in requirements)


# --- field selectors -----------------------------------------------------------------------------

# Field selector names that are not a plain dotted path of the object.
_FIELD_ALIASES: dict[str, str] = {"source": "source.component", "spec.host": "spec.nodeName"}
# Booleans the apiserver renders with fmt.Sprint even when unset.
_FIELD_DEFAULTS: dict[str, str] = {"spec.hostNetwork": "false", "spec.unschedulable": "false"}


@dataclass(frozen=True)
class FieldRequirement:
    """`field = value` or `field != value` on a dotted path of the object."""

    field: str
    value: str
    negate: bool = False

    def matches(self, obj: Obj) -> bool:
        actual = field_value(obj, _FIELD_ALIASES.get(self.field, self.field)) or _FIELD_DEFAULTS.get(self.field, "")
        return (actual != self.value) if self.negate else (actual == self.value)


def field_value(obj: Obj, path: str) -> str:
    """A dotted path's value as the API compares it: strings as-is, bools lower-case, missing ""."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return cur if isinstance(cur, str) else str(cur)


def _split_unescaped(text: str, sep: str) -> list[str]:
    return re.split(rf"(?<!\\){re.escape(sep)}", text)


_FIELD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_-]*)*$")


def parse_field_selector(text: str | None, supported: Collection[str] | None = None) -> list[FieldRequirement]:
    """`status.phase=Running,spec.nodeName!=n1` → requirements (`\\,` and `\\=` escape).

    `supported`: the field labels the kind accepts (the apiserver's ConvertFieldLabel); any other
    is "field label not supported". Without it, any dotted path parses.
    """
    if not text or not text.strip():
        return []
    out: list[FieldRequirement] = []
    for part in _split_unescaped(text, ","):
        if not part:
            continue  # `a=b,` : fields.ParseSelector skips empty terms
        m = re.match(r"^(.*?)(!=|==|=)(.*)$", part)
        if not m:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        name, op, value = m.group(1).strip(), m.group(2), m.group(3)
        value = _unescape_value(value)
        if supported is not None and name not in supported:
            raise SelectorError(f"field label not supported: {name}")
        if not name or not _FIELD_RE.match(name):
            raise SelectorError(f"field label not supported: {name}")
        out.append(FieldRequirement(name, value, negate=(op == "!=")))
    return out


def _unescape_value(value: str) -> str:
    """fields.UnescapeValue: `\\\\`, `\\,` and `\\=` only; a bare `=` (as in `a===b`) is refused."""
    out, escaped = [], False
    for ch in value:
        if escaped:
            if ch not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            raise SelectorError(f"invalid field selector: unescaped character in value: {ch}")
        else:
            out.append(ch)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def match_fields(requirements: list[FieldRequirement], obj: Obj) -> bool:
    """Whether an object satisfies every field requirement."""
    return all(r.matches(obj) for r in requirements)


def compile_selectors(label: str | None, fields: str | None,
                      field_labels: Collection[str] | None = None) -> Callable[[Obj], bool]:
    """One predicate for both selectors; raises SelectorError on either (`field_labels`: as parse_field_selector)."""
    labels = parse_label_selector(label)
    field_reqs = parse_field_selector(fields, field_labels)
    if not labels and not field_reqs:
        return lambda _obj: True
    return lambda obj: match_labels(labels, obj) and match_fields(field_reqs, obj)

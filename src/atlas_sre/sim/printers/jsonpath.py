"""The subset of kubectl's JSONPath that CRD printer columns use, and how its printer writes values.

A CRD's `additionalPrinterColumns` name their cells with a JSONPath (`.spec.hosts`,
`.status.conditions[?(@.type=="Ready")].status`); the apiextensions-apiserver evaluates it with
missing keys allowed and writes what it finds as kubectl's JSONPath printer does (arrays and objects as
compact Go JSON, booleans lower-case).
"""

from __future__ import annotations

import json
import re
from typing import Any

from atlas_sre.sim.printers.common import Obj

_MISSING = object()
_TOKEN = re.compile(
    r"""\.(?P<field>[A-Za-z0-9_\-/$]+)      # .field
      | \[(?P<quote>['"])(?P<key>.*?)(?P=quote)\]   # ['key.with.dots']
      | \[(?P<index>-?\d+)\]                 # [0]
      | \[\*\] | \.\*                        # wildcards
      | \[\?\(@(?P<fpath>(?:\.[A-Za-z0-9_\-]+)+)\s*(?P<op>==|!=)\s*(?P<fq>['"]?)(?P<fval>[^'"\)]*)(?P=fq)\)\]
    """,
    re.VERBOSE,
)


def _step(values: list[Any], match: re.Match[str]) -> list[Any]:
    """Apply one JSONPath step to every current value (missing keys drop out, as AllowMissingKeys)."""
    out: list[Any] = []
    for value in values:
        if match.group("field") is not None or match.group("key") is not None:
            key = match.group("field") if match.group("field") is not None else match.group("key")
            if isinstance(value, dict) and key in value:
                out.append(value[key])
        elif match.group("index") is not None:
            idx = int(match.group("index"))
            if isinstance(value, list) and -len(value) <= idx < len(value):
                out.append(value[idx])
        elif match.group("fpath") is not None:
            keys = match.group("fpath").strip(".").split(".")
            for item in value if isinstance(value, list) else []:
                got: Any = item
                for k in keys:
                    got = got.get(k, _MISSING) if isinstance(got, dict) else _MISSING
                equal = got is not _MISSING and text(got) == match.group("fval")
                if equal == (match.group("op") == "=="):
                    out.append(item)
        elif isinstance(value, list):
            out.extend(value)
        elif isinstance(value, dict):
            out.extend(value.values())
    return out


def find(obj: Obj, path: str) -> list[Any]:
    """All values a simple JSONPath selects (`.spec.hosts`, `.status.conditions[?(@.type=="Ready")].status`).

    Enough of kubectl's JSONPath for printer columns: fields, `['quoted.keys']`, `[N]`, `[*]` and
    `[?(@.path==value)]` filters. Missing keys select nothing (`AllowMissingKeys`).
    """
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    values: list[Any] = [obj]
    pos = 0
    while pos < len(text) and values:
        match = _TOKEN.match(text, pos)
        if match is None:
            return []
        values = _step(values, match)
        pos = match.end()
    return values


def _go_json(value: Any) -> str:
    """Go's `json.Marshal`: compact, map keys sorted, `<`, `>`, `&` escaped."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def text(value: Any) -> str:
    """How kubectl's JSONPath printer writes one value."""
    if isinstance(value, (dict, list)):
        return _go_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

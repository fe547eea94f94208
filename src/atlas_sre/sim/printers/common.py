"""The cell formatting rules the server-side Table printers share: ages, names, selector strings.

The kube-apiserver renders `kubectl get` output itself (pkg/printers/internalversion); kubectl only
lays the cells out. These helpers reproduce the small formatting rules those printers share
(`<none>` for empty selectors, `<unknown>` for missing timestamps, label-selector strings sorted
by key) so that every per-kind printer prints exactly the strings a real 1.32 cluster prints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atlas_sre.sim.clock import UTC, parse_time
from atlas_sre.sim.printers.ages import elapsed

Obj = dict[str, Any]


def as_utc(now: datetime) -> datetime:
    """`now` as an aware datetime (a naive one is taken to be UTC)."""
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def since(ts: str | None, now: datetime) -> str:
    """`translateTimestampSince`: HumanDuration from `ts` to `now`, `<unknown>` when unset."""
    if not ts:
        return "<unknown>"
    return elapsed(parse_time(ts), now)


def age(obj: Obj, now: datetime) -> str:
    """The AGE cell of an object."""
    return since(meta(obj).get("creationTimestamp"), now)


def meta(obj: Obj) -> Obj:
    """`obj.metadata`, never None."""
    return obj.get("metadata") or {}


def name(obj: Obj) -> str:
    """`obj.metadata.name`."""
    return str(meta(obj).get("name", ""))


def dig(obj: Any, *path: str | int) -> Any:
    """Walk nested dicts/lists; None as soon as a step is missing."""
    cur = obj
    for step in path:
        if isinstance(step, int):
            if not isinstance(cur, list) or step >= len(cur):
                return None
            cur = cur[step]
        else:
            if not isinstance(cur, dict):
                return None
            cur = cur.get(step)
        if cur is None:
            return None
    return cur


def kind_name(ref: Obj | None) -> str:
    """A reference as `Kind/name` (a binding's roleRef, an autoscaler's scaleTargetRef)."""
    ref = ref or {}
    return f"{ref.get('kind', '')}/{ref.get('name', '')}"


def set_string(labels: dict[str, Any] | None) -> str:
    """`labels.Set.String()`: `k=v` pairs sorted by key, comma-joined."""
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels or {}))


def format_labels(labels: dict[str, Any] | None) -> str:
    """`labels.FormatLabels`: the set string, `<none>` when empty."""
    return set_string(labels) or "<none>"


def selector_string(selector: Obj | None) -> str:
    """`metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key, values sorted."""
    if not selector:
        return ""
    reqs: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        reqs.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = ",".join(sorted(str(v) for v in expr.get("values") or []))
        text = {
            "In": f"{key} in ({values})",
            "NotIn": f"{key} notin ({values})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(op, "<invalid>")
        reqs.append((key, text))
    return ",".join(text for _, text in sorted(reqs, key=lambda r: r[0]))


def format_label_selector(selector: Obj | None) -> str:
    """`metav1.FormatLabelSelector`: the selector string, `<none>` when it selects everything."""
    return selector_string(selector) or "<none>"


def layout_containers(containers: list[Obj] | None) -> tuple[str, str]:
    """`layoutContainerCells`: container names and images, each comma-joined."""
    items = containers or []
    return ",".join(c.get("name", "") for c in items), ",".join(c.get("image", "") for c in items)


def template_containers(obj: Obj) -> list[Obj]:
    """`spec.template.spec.containers` of a workload."""
    return dig(obj, "spec", "template", "spec", "containers") or []


def int_or_string(value: Any) -> str:
    """An IntOrString as Go's `.String()` prints it ("1", "50%")."""
    return str(value)


def condition_true(conditions: list[Obj] | None, type_: str) -> bool:
    """Whether the condition of `type_` is present with status True (first match wins)."""
    for cond in conditions or []:
        if cond.get("type") == type_:
            return cond.get("status") == "True"
    return False


def status_int(obj: Obj, field: str) -> int:
    """An integer `status.<field>`, 0 when unset (Go's zero value)."""
    return int(dig(obj, "status", field) or 0)

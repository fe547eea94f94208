"""Label selectors as objects store them (a Service's map, a metav1.LabelSelector), matched against labels.

Two rules exist in Kubernetes and both are needed, so each has its own name:
- `selector_matches`: a LabelSelector where an empty selector selects everything (NetworkPolicy
  podSelector, PodDisruptionBudget, Istio selectors); only the LabelSelector operators count.
- `workload_selector_matches`: how Services, workload controllers and affinity terms select pods:
  a plain map or a LabelSelector, and an empty or missing selector selects nothing.
Selectors written as query strings (`-l app=web`) are parsed in `kube.selectors`.
"""

from __future__ import annotations

from typing import Any

# The operators a metav1.LabelSelector accepts (node selectors add Gt and Lt).
LABEL_SELECTOR_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})


def is_label_selector(selector: dict[str, Any]) -> bool:
    """A metav1.LabelSelector (matchLabels/matchExpressions) rather than a plain `key: value` map."""
    return "matchLabels" in selector or "matchExpressions" in selector


def map_matches(wanted: dict[str, str] | None, labels: dict[str, str]) -> bool:
    """A map-style selector (Service selector, Istio matchLabels, DR subset labels); empty matches all."""
    return all(labels.get(k) == v for k, v in (wanted or {}).items())


def expression_matches(expr: dict[str, Any], labels: dict[str, str]) -> bool:
    """One matchExpressions requirement (In, NotIn, Exists, DoesNotExist, and node selectors' Gt, Lt)."""
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and values:
        try:
            a, b = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions); an empty selector matches everything.

    Operators a LabelSelector does not accept are ignored (the API server would have refused them).
    """
    if not selector:
        return True
    if not map_matches(selector.get("matchLabels"), labels):
        return False
    return all(expression_matches(e, labels) for e in selector.get("matchExpressions") or []
               if e.get("operator") in LABEL_SELECTOR_OPERATORS)


def workload_selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A Service selector (plain map) or a LabelSelector, as Services and controllers apply it.

    An empty or missing selector selects nothing (a Service without a selector has no endpoints).
    """
    if not selector:
        return False
    if is_label_selector(selector):
        if not map_matches(selector.get("matchLabels"), labels):
            return False
        return all(expression_matches(e, labels) for e in selector.get("matchExpressions") or [])
    return map_matches(selector, labels)


def selector_pairs(selector: dict[str, Any]) -> list[tuple[str, str]]:
    """The exact `key=value` requirements of a selector (Service map or LabelSelector)."""
    if is_label_selector(selector):
        pairs = list((selector.get("matchLabels") or {}).items())
        for expr in selector.get("matchExpressions") or []:
            if expr.get("operator") == "In" and len(expr.get("values") or []) == 1:
                pairs.append((expr["key"], expr["values"][0]))
        return pairs
    return list(selector.items())

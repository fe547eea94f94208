"""ResourceQuota admission: whether the apiserver accepts one more pod in a namespace.

Usage is charged in creation order, so the first pods of a namespace fit and the ones past the
limit are refused with the apiserver's exact wording ("exceeded quota: q, requested: ...",
"failed quota: q: must specify limits.memory for: app"). Quota `status` is computed by the rollup
stage from what finally exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from atlas_sre.kube.quantity import amount, format_amount
from atlas_sre.kube.requests import container_resources, qos_class
from atlas_sre.sim.objects.index import index_of
from atlas_sre.sim.objects.meta import created_at
from atlas_sre.sim.state import ClusterState
from atlas_sre.sim.workloads.podgen import AdmittedTemplate

LEDGER_KEY = "quota"
_VALIDATED = {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}


@dataclass
class _Quota:
    name: str
    hard: dict[str, int]
    scopes: list[str]
    scope_selector: list[dict[str, Any]]
    since: datetime  # created then: pods admitted earlier were never checked against it, only counted
    used: dict[str, int] = field(default_factory=dict)


def pod_quota_usage(admitted: AdmittedTemplate) -> dict[str, int]:
    """What one pod of this template charges against a quota (pods, requests.*, limits.*)."""
    usage = {"pods": 1, "count/pods": 1}
    for r, v in admitted.requests.items():
        usage[f"requests.{r}"] = v
        if r in ("cpu", "memory", "ephemeral-storage"):
            usage[r] = v
    for r, v in admitted.limits.items():
        usage[f"limits.{r}"] = v
    return usage


def missing_requirements(admitted: AdmittedTemplate, hard: set[str]) -> str | None:
    """`must specify limits.cpu for: a,b; requests.memory for: a` for a quota tracking compute."""
    required = hard & _VALIDATED
    if not required:
        return None
    missing: dict[str, set[str]] = {}
    for c in list(admitted.spec.get("containers") or []) + list(admitted.spec.get("initContainers") or []):
        req, lim = container_resources(c)
        have: set[str] = set()
        for r in ("cpu", "memory"):
            if r in req:
                have |= {r, f"requests.{r}"}
            if r in lim:
                have.add(f"limits.{r}")
        for r in required - have:
            missing.setdefault(r, set()).add(c["name"])
    if not missing:
        return None
    parts = sorted(f"{r} for: {','.join(sorted(names))}" for r, names in missing.items())
    return "must specify " + "; ".join(parts)


def _in_scope(q: _Quota, admitted: AdmittedTemplate) -> bool:
    qos = qos_class(admitted.spec)
    terminating = admitted.spec.get("activeDeadlineSeconds") is not None
    checks = {"BestEffort": qos == "BestEffort", "NotBestEffort": qos != "BestEffort",
              "Terminating": terminating, "NotTerminating": not terminating}
    for scope in q.scopes:
        if not checks.get(scope, True):
            return False
    for expr in q.scope_selector:
        scope, op, values = expr.get("scopeName"), expr.get("operator"), expr.get("values") or []
        if scope == "PriorityClass":
            pc = admitted.spec.get("priorityClassName")
            ok = {"In": pc in values, "NotIn": pc not in values, "Exists": bool(pc),
                  "DoesNotExist": not pc}.get(op, True)
        else:
            ok = checks.get(str(scope), True) if op == "Exists" else True
        if not ok:
            return False
    return True


class QuotaLedger:
    """Per-namespace quotas with usage charged as pods are admitted."""

    def __init__(self, state: ClusterState) -> None:
        self._by_ns: dict[str, list[_Quota]] = {}
        quotas = sorted(index_of(state).list("ResourceQuota"), key=lambda o: o["metadata"]["name"])
        for q in quotas:
            spec = q.get("spec") or {}
            hard = {k: amount(k, v) for k, v in (spec.get("hard") or {}).items()}
            sel = (spec.get("scopeSelector") or {}).get("matchExpressions") or []
            self._by_ns.setdefault(q["metadata"]["namespace"], []).append(
                _Quota(q["metadata"]["name"], hard, list(spec.get("scopes") or []), list(sel),
                       created_at(state, q)))

    def admit(self, admitted: AdmittedTemplate, pod_name: str, at: datetime | None = None) -> str | None:
        """Charge one pod created at `at`, or return the apiserver's Forbidden message refusing it.

        A quota created after `at` (a fault's) does not judge the pod; it counts it once it exists,
        as the quota controller's first sync does.
        """
        quotas = [q for q in self._by_ns.get(admitted.namespace, []) if _in_scope(q, admitted)]
        if not quotas:
            return None
        usage = pod_quota_usage(admitted)
        checked = [q for q in quotas if at is None or q.since <= at]
        for q in checked:
            err = missing_requirements(admitted, set(q.hard))
            if err:
                return f'pods "{pod_name}" is forbidden: failed quota: {q.name}: {err}'
        for q in checked:
            failed = sorted(r for r in q.hard if r in usage and q.used.get(r, 0) + usage[r] > q.hard[r])
            if failed:
                def show(values: dict[str, int], names: list[str] = failed) -> str:
                    return ",".join(f"{r}={format_amount(r, values.get(r, 0))}" for r in names)

                return (f'pods "{pod_name}" is forbidden: exceeded quota: {q.name}, requested: {show(usage)}, '
                        f"used: {show(q.used)}, limited: {show(q.hard)}")
        for q in quotas:
            for r in q.hard:
                if r in usage:
                    q.used[r] = q.used.get(r, 0) + usage[r]
        return None

    def release(self, admitted: AdmittedTemplate) -> None:
        """Give back one pod's usage (a pod a rollout deleted)."""
        usage = pod_quota_usage(admitted)
        for q in self._by_ns.get(admitted.namespace, []):
            if _in_scope(q, admitted):
                for r in q.hard:
                    if r in usage:
                        q.used[r] = q.used.get(r, 0) - usage[r]


def ledger(state: ClusterState) -> QuotaLedger:
    """The state's quota ledger (created on first use)."""
    led = state.extras.get(LEDGER_KEY)
    if led is None:
        led = state.extras[LEDGER_KEY] = QuotaLedger(state)
    return led

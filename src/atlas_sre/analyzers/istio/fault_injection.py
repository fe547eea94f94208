"""ATL120: VirtualService fault injection (abort/delay) left active.

Why: a chaos-test `fault` block that nobody removed makes callers see `FI` (fault injected) errors
or delays while the destination pods are perfectly healthy.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import spec
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME_FAULT = "fault-injection"


def _percent(block: dict) -> float:
    pct = block.get("percentage")
    if isinstance(pct, dict) and "value" in pct:
        return float(pct["value"])
    if "percent" in block:
        return float(block["percent"])
    return 100.0


def _hosts(rule: dict) -> str:
    hosts = sorted({str((r.get("destination") or {}).get("host")) for r in rule.get("route") or []})
    return ", ".join(hosts) or "?"


class FaultInjection(Check, name=NAME_FAULT, codes=("ATL120",), kind="VirtualService"):
    """VirtualService fault injection (abort/delay) should not be active outside a test."""

    def check(self, snap: Snapshot, vs: Obj) -> Iterator[Finding]:
        for i, rule in enumerate(spec(vs).get("http") or []):
            fault = rule.get("fault") or {}
            abort, delay = fault.get("abort"), fault.get("delay")
            if isinstance(abort, dict):
                pct = _percent(abort)
                status = abort.get("httpStatus") or abort.get("grpcStatus") or "error"
                yield self.finding(
                    "ATL120", Level.ERROR if pct >= 50 else Level.WARNING, vs,
                    f"Fault injection abort ({status} for {pct:g}% of requests) is active on http "
                    f"route[{i}] to {_hosts(rule)}; callers see {status} FI (fault injected).",
                )
            if isinstance(delay, dict):
                pct = _percent(delay)
                yield self.finding(
                    "ATL120", Level.WARNING, vs,
                    f"Fault injection delay ({delay.get('fixedDelay', '?')} for {pct:g}% of "
                    f"requests) is active on http route[{i}] to {_hosts(rule)}.",
                )

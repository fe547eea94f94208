"""ATL205 (an init container keeps failing) and ATL206 (an init container never finishes).

Why: the app container of such a pod never starts (`Init:CrashLoopBackOff`, `Init:0/1`); the app
logs are empty and the cause is in the init container's state and logs. Native sidecars
(`restartPolicy: Always` init containers, e.g. istio-proxy) run forever by design and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import name_of, pod_spec
from atlas_sre.analyzers.snapshot import Obj, Snapshot, parse_time
from atlas_sre.analyzers.workload.states import CRASH, last_terminated, pods_with, waiting

NAME = "init-containers"
STUCK_AFTER = timedelta(minutes=5)


def _native_sidecars(pod: Obj) -> set[str]:
    return {
        c.get("name", "")
        for c in pod_spec(pod).get("initContainers") or []
        if c.get("restartPolicy") == "Always"
    }


def _failing(cs: dict) -> bool:
    term = last_terminated(cs)
    return waiting(cs).get("reason") in CRASH or (
        term.get("exitCode") not in (None, 0) and not cs.get("ready")
    )


class InitContainers(Check, name=NAME, codes=("ATL205", "ATL206")):
    """Init containers must finish, successfully, soon after the pod starts."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        failing = pods_with(snap, _failing, init=True)
        for res, (_, hits) in failing.items():
            hits = [(p, cs) for p, cs in hits if cs.get("name") not in _native_sidecars(p)]
            if not hits:
                continue
            pod, cs = hits[0]
            term = last_terminated(cs)
            yield self.finding(
                "ATL205",
                Level.ERROR,
                res,
                f"init container {cs.get('name')} fails ({waiting(cs).get('reason') or 'Error'}, "
                f"exit code {term.get('exitCode')}, {cs.get('restartCount', 0)} restarts) in "
                f"{len(hits)} pod(s); the app containers never start.",
                evidence=[f"pod {res.namespace}/{name_of(p)}" for p, _ in hits[:3]],
            )
        now = snap.observed_at
        for res, (top, hits) in pods_with(
            snap, lambda cs: bool((cs.get("state") or {}).get("running")), init=True
        ).items():
            if res in failing:
                continue
            stalled = _deadline_exceeded(top)
            stuck = []
            for pod, cs in hits:
                started = parse_time(str(cs["state"]["running"].get("startedAt") or ""))
                age = now - started if now and started else timedelta(0)
                if cs.get("name") not in _native_sidecars(pod) and (stalled or age > STUCK_AFTER):
                    stuck.append((pod, cs, age))
            if stuck:
                pod, cs, age = stuck[0]
                since = f"for {int(age.total_seconds() // 60)}m" if age > timedelta(0) else "since it started"
                tail = " and the rollout has exceeded its progress deadline" if stalled else ""
                yield self.finding(
                    "ATL206",
                    Level.ERROR,
                    res,
                    f"init container {cs.get('name')} has been running {since} without finishing in "
                    f"{len(stuck)} pod(s){tail}; the pods stay in Init and never serve.",
                    evidence=[f"pod {res.namespace}/{name_of(p)}" for p, _, _ in stuck[:3]],
                )


def _deadline_exceeded(workload: Obj) -> bool:
    """The Deployment says its rollout timed out (Progressing=False, ProgressDeadlineExceeded)."""
    return any(
        c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded"
        for c in (workload.get("status") or {}).get("conditions") or []
    )

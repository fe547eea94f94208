"""ATL207 (readiness/startup probe failing) and ATL208 (liveness probe failing, container restarted).

Why: a failing readiness probe keeps pods out of the endpoints (`0/1 Running`, no crash, no log
error); a failing liveness probe makes the kubelet kill a healthy process. The kubelet's
`Unhealthy` events carry the probe result (`HTTP probe failed with statuscode: 404`, `connection
refused`), which points at the probe's path or port. A few failures while a pod starts are normal,
so a probe must have failed at least `MIN_FAILURES` times, or the pod must still be unready.

Time matters: failures that stopped long ago on pods Ready since (a past `Unhealthy` warning, e.g. a
slow start hours ago) are history: a Warning with their age, never an Error.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import by_owner, is_ready, live_pods, name_of, ns_of
from atlas_sre.analyzers.snapshot import Obj, Snapshot, event_count, event_message, parse_time
from atlas_sre.analyzers.workload.crash import RECOVERED_AFTER, ago

NAME = "probes"
MIN_FAILURES = 3
_KINDS = (("Liveness", "ATL208"), ("Readiness", "ATL207"), ("Startup", "ATL207"))


def _events(snap: Snapshot, pod: Obj, kind: str) -> list[Obj]:
    return [
        e
        for e in snap.events_for("Pod", ns_of(pod), name_of(pod))
        if e.get("reason") == "Unhealthy" and event_message(e).startswith(f"{kind} probe failed")
    ]


def _failures(snap: Snapshot, pod: Obj, kind: str) -> tuple[int, str]:
    evs = _events(snap, pod, kind)
    return sum(event_count(e) for e in evs), (event_message(evs[-1]) if evs else "")


def _stopped_for(snap: Snapshot, pods: list[Obj], kind: str, now: datetime | None) -> timedelta | None:
    """How long ago the last failure was, when every pod is Ready and that is past `RECOVERED_AFTER`."""
    stamps = [parse_time(str(e.get("lastTimestamp") or e.get("eventTime") or "")) for p in pods
              for e in _events(snap, p, kind)]
    if not (now and stamps and all(stamps) and all(is_ready(p) for p in pods)):
        return None
    age = now - max(t for t in stamps if t)
    return age if age > RECOVERED_AFTER else None


class Probes(Check, name=NAME, codes=("ATL207", "ATL208")):
    """Probes must pass on healthy pods: report the probe and the kubelet's reason when they do not."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        for res, (_, pods) in by_owner(snap, live_pods(snap)).items():
            for kind, code in _KINDS:
                hits = [(p, *_failures(snap, p, kind)) for p in pods]
                hits = [(p, n, m) for p, n, m in hits if n and (n >= MIN_FAILURES or not is_ready(p))]
                if not hits:
                    continue
                pod, count, message = hits[0]
                unready = sum(1 for p, _, _ in hits if not is_ready(p))
                if kind == "Liveness":
                    text = (
                        f"liveness probe fails in {len(hits)} pod(s) ({count} failures in {name_of(pod)}), "
                        "so "
                        f"the kubelet keeps restarting the container: {message}"
                    )
                    level = Level.ERROR
                else:
                    text = (
                        f"{kind.lower()} probe fails in {len(hits)} pod(s), {unready} not Ready "
                        f"({count} failures in {name_of(pod)}): {message}"
                    )
                    level = Level.ERROR if unready == len(pods) else Level.WARNING
                past = _stopped_for(snap, [p for p, _, _ in hits], kind, snap.observed_at)
                if past is not None:
                    level = Level.WARNING
                    text = (f"{kind.lower()} probe failed in {len(hits)} pod(s) ({count} failures in {name_of(pod)}), "
                            f"last {ago(past)} ago, and the pods have been Ready since; past, not current: {message}")
                yield self.finding(
                    code,
                    level,
                    res,
                    text,
                    evidence=[
                        f"pod {res.namespace}/{name_of(p)}: {n} {kind} failures" for p, n, _ in hits[:3]
                    ],
                )
                break

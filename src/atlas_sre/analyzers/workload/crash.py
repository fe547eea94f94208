"""ATL201 (containers crash-looping) and ATL202 (containers OOMKilled), k8sgpt-style.

Why: a crash loop's cause is in the last termination the kubelet recorded (reason, exit code,
message such as `exec: "x": executable file not found in $PATH`); reporting it per workload with
that evidence saves the describe/logs round trips.

Time matters: a container that crashed hours ago and has run ready ever since is history, not the
incident. The kubelet forgets a crash back-off after 10 minutes of running, and so does this check:
such a past termination is reported as a Warning with its age, so noise never outranks a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import events_text, name_of
from atlas_sre.analyzers.snapshot import Snapshot, parse_time
from atlas_sre.analyzers.workload.states import CRASH, last_terminated, pods_with, waiting

NAME_CRASH = "crash-loop"
RECOVERED_AFTER = timedelta(minutes=10)  # the kubelet resets a crash back-off after 10 min running


def recovered_for(cs: dict, now: datetime | None) -> timedelta | None:
    """How long ago a container that is running and ready again last terminated, when that is
    longer than `RECOVERED_AFTER`; None while the termination still counts as current."""
    running = (cs.get("state") or {}).get("running")
    finished = parse_time(str(last_terminated(cs).get("finishedAt") or ""))
    if not (running and cs.get("ready") and finished and now):
        return None
    age = now - finished
    return age if age > RECOVERED_AFTER else None


def ago(age: timedelta) -> str:
    """`3h50m` / `25m`: the short age kubectl prints."""
    minutes = int(age.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60}m" if minutes >= 60 else f"{minutes}m"


def _crashing(cs: dict) -> bool:
    term = last_terminated(cs)
    if waiting(cs).get("reason") in CRASH:
        return True
    return int(cs.get("restartCount") or 0) > 0 and (
        term.get("reason") == "OOMKilled" or (term.get("exitCode") not in (None, 0) and not cs.get("ready"))
    )


class ContainerCrashes(Check, name=NAME_CRASH, codes=("ATL201", "ATL202")):
    """Containers that keep exiting: report why (reason, exit code, message) per workload."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        for res, (_, hits) in pods_with(snap, _crashing).items():
            pod, cs = hits[0]
            term = last_terminated(cs)
            reason, code = term.get("reason") or "Error", term.get("exitCode")
            pods = sorted({name_of(p) for p, _ in hits})
            restarts = max(int(c.get("restartCount") or 0) for _, c in hits)
            detail = f"last terminated {reason}, exit code {code}"
            if term.get("message"):
                detail += f": {str(term['message']).strip()}"
            oom = reason == "OOMKilled"
            code_id = "ATL202" if oom else "ATL201"
            ages = [recovered_for(c, snap.observed_at) for _, c in hits]
            if all(ages):
                newest = min(a for a in ages if a)
                yield self.finding(
                    code_id, Level.WARNING, res,
                    f"container {cs.get('name')} last terminated {reason} (exit code {code}) {ago(newest)} ago "
                    f"and has run ready since ({restarts} restart(s) in {len(pods)} pod(s)); past, not current.",
                    [f"pod {res.namespace}/{p}" for p in pods[:3]])
                continue
            text = (
                f"container {cs.get('name')} is OOMKilled (exit code {code}) and restarted up to {restarts} "
                "times "
                f"in {len(pods)} pod(s); its memory limit is below what it uses."
                if oom
                else f"container {cs.get('name')} is crash-looping "
                     f"({waiting(cs).get('reason') or 'restarting'}, "
                f"{restarts} restarts) in {len(pods)} pod(s): {detail}."
            )
            evidence = [f"pod {res.namespace}/{p}" for p in pods[:3]] + events_text(snap, pod, ["BackOff"])[
                :1
            ]
            yield self.finding(code_id, Level.ERROR, res, text, evidence)

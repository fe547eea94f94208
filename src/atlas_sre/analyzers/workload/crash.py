"""ATL201 (containers crash-looping) and ATL202 (containers OOMKilled), k8sgpt-style.

Why: a crash loop's cause is in the last termination the kubelet recorded (reason, exit code,
message such as `exec: "x": executable file not found in $PATH`); reporting it per workload with
that evidence saves the describe/logs round trips.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import events_text, name_of
from atlas_sre.analyzers.snapshot import Snapshot
from atlas_sre.analyzers.workload.states import CRASH, last_terminated, pods_with, waiting

NAME_CRASH = "crash-loop"


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
            yield self.finding("ATL202" if oom else "ATL201", Level.ERROR, res, text, evidence)

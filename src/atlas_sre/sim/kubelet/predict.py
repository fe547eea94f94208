"""Ask the kubelet, ahead of its stage, how one pod's run will end.

The Job controller acts on pod failures (a replacement after its back-off, the Job's failure once
`backoffLimit` is passed, deleting what still runs), so it needs the kubelet's timeline before
the kubelet stage writes it. The answer replays the same `run_pod` with a throw-away event sink,
so the pod the controller reasoned about and the pod the stage derives never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from atlas_sre.sim.kubelet import images as img
from atlas_sre.sim.kubelet.events import PodEvents
from atlas_sre.sim.kubelet.pod import SANDBOX_MS, PodRun, run_pod
from atlas_sre.sim.kubelet.stage import _config, _context, _registry, pod_start
from atlas_sre.sim.state import ClusterState, Obj, SimSpec


@dataclass(frozen=True)
class PodOutcome:
    """How a pod's run ends by `until` (scenario times)."""

    ended_at: datetime | None  # every app container terminated for good (None: still active)
    succeeded: bool  # ...and all of them exited 0
    limit_at: datetime | None  # when the summed restart counts first reached the asked limit


def _restarts(run: PodRun) -> int:
    return sum(r.restarts for r in [*run.inits, *run.apps])


def _ended(run: PodRun) -> tuple[int | None, bool]:
    """(ms when the last app container ended for good, all exit 0) or (None, False) while active."""
    if not run.apps or run.sandbox_at is None:
        return None, False
    policy = run.ctx.restart_policy
    ends, ok = [], True
    for r in run.apps:
        if not r.terminated_shown or not r.instances or r.instances[-1].finished is None:
            return None, False
        inst = r.instances[-1]
        if policy == "Always" or (policy == "OnFailure" and inst.profile.exit_code != 0):
            return None, False  # it will be restarted
        ends.append(inst.finished)
        ok = ok and inst.started is not None and inst.profile.exit_code == 0 and inst.profile.kill_at is None
    return max(e for e in ends if e is not None), ok


def predict_pod(spec: SimSpec, state: ClusterState, pod: Obj, node: str, neighbours: list[Obj],
                until: datetime, restart_limit: int | None = None) -> PodOutcome:
    """Replay `pod` on `node` until `until`; `neighbours` are the pods already bound there (their
    images are present once pulled). With `restart_limit`, also find when the pod's summed restart
    counts reach it (the Job controller's `pastBackoffLimitOnFailure`)."""
    md = pod["metadata"]
    ns = md.get("namespace") or "default"
    start = pod_start(state, pod)
    registry, index = _registry(spec, state), _config(spec, state)
    seen: dict[str, datetime] = {}
    for other in neighbours:
        t = pod_start(state, other)
        for key in ("initContainers", "containers"):
            for c in (other.get("spec") or {}).get(key) or []:
                image = str(c.get("image", ""))
                seen[image] = min(seen.get(image, t), t)

    def present(image: str) -> bool:
        t = seen.get(image)
        return t is not None and image in registry and \
            (start - t).total_seconds() * 1000 > img.pull_ms(image) + SANDBOX_MS

    def replay(horizon: int) -> PodRun:
        return run_pod(_context(pod, ns, start, horizon, registry, index, PodEvents(horizon), present,
                                state.clock), pod.get("spec") or {})

    full = max(0, int((until - start).total_seconds() * 1000))
    run = replay(full)
    end, ok = _ended(run)
    ended_at = None if end is None else start + timedelta(milliseconds=end)
    limit_at = None
    if restart_limit is not None and _restarts(run) >= restart_limit:
        lo, hi = 0, full  # restarts only grow with the horizon: the first ms they reach the limit
        while lo < hi:
            mid = (lo + hi) // 2
            if _restarts(replay(mid)) >= restart_limit:
                hi = mid
            else:
                lo = mid + 1
        limit_at = start + timedelta(milliseconds=lo)
    return PodOutcome(ended_at, ok, limit_at)


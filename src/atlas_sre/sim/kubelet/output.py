"""What a pod's containers write and use: log streams and metrics.k8s.io usage.

Streams are filed the way the kubelet finds a container's log by container ID: `previous=False`
is the instance in `state` (running, or terminated and not yet restarted), `previous=True` the
one in `lastState` — which, while a container waits in CrashLoopBackOff, is its latest instance
(real `kubectl logs` shows the last crash then). A stream exists, possibly empty, exactly when
that instance was created, so a container that never started has none and the API server
answers "waiting to start". Only the two instances a status can name are kept: a long crash
loop does not grow the log.
"""

from __future__ import annotations

from atlas_sre.sim.kubelet.logtime import served_text
from atlas_sre.sim.kubelet.runtime import render
from atlas_sre.sim.kubelet.status import running_now
from atlas_sre.sim.kubelet.timeline import ContainerRun, Instance, PodContext
from atlas_sre.sim.state import ClusterState, LogKey, Usage

LINE_GAP_MS = 7  # start-up lines are written in a quick burst


def _instance_lines(ctx: PodContext, run: ContainerRun, inst: Instance) -> list[tuple[int, str]]:
    beh = run.behaviour
    if beh is None or inst.started is None:
        return []
    prof = inst.profile
    values = ctx.values(run.container, beh)
    end = ctx.horizon if inst.finished is None else min(inst.finished, ctx.horizon)
    lines: list[tuple[int, str]] = []
    for i, template in enumerate(beh.logs.startup):
        lines.append((inst.started + i * LINE_GAP_MS, render(template, values)))
    if beh.logs.ready and prof.listen_after is not None:
        lines.append((inst.started + prof.listen_after, render(beh.logs.ready, values)))
    if prof.fail_log and inst.finished is not None:
        lines.append((max(inst.started, inst.finished - 5), prof.fail_log))
    return [(t, text) for t, text in lines if t <= end]


def write_logs(state: ClusterState, ctx: PodContext, run: ContainerRun) -> None:
    """File the current and previous streams of one container."""
    if not run.instances:
        return
    latest = run.instances[-1]
    before = run.instances[-2] if len(run.instances) >= 2 else None
    filing: list[tuple[Instance, bool]] = []
    if run.waiting:
        filing.append((latest, True))
    else:
        filing.append((latest, False))
        if before is not None:
            filing.append((before, True))
    ns, pod = ctx.facts.namespace, ctx.facts.name
    for inst, previous in filing:
        key = LogKey(ns, pod, run.name, previous)
        state.logs.setdefault(key, [])  # the instance exists: an empty stream is still a stream
        for t, text in _instance_lines(ctx, run, inst):
            state.add_log(key, ctx.at(t), served_text(text, ctx.clock, ctx.at(t)))


def usage_of(ctx: PodContext, run: ContainerRun) -> Usage | None:
    """CPU and memory of a running container at the horizon (memory growth included)."""
    inst = running_now(run)
    if inst is None or run.behaviour is None or inst.started is None:
        return None
    use = run.behaviour.usage
    minutes = (ctx.horizon - inst.started) / 60_000
    return Usage(use.cpuMilli, int(round(use.memoryMi + use.memoryGrowthMiPerMin * minutes)))

"""A pod's run on its node: volumes, the sandbox, init containers in order, then the app containers.

Volumes come first because the kubelet waits for them before it creates the sandbox: a missing
ConfigMap volume leaves every container `ContainerCreating` (no IP, no image pull) while the
volume manager retries with its own back-off (0.5s doubling to 2m2s), each failure a
`FailedMount` event. Init containers run one at a time and each must exit 0 (a native sidecar —
an init container with `restartPolicy: Always` — only has to start); app containers start once
all have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atlas_sre.sim.kubelet.config import volume_error
from atlas_sre.sim.kubelet.timeline import BIG, PLEG_MS, ContainerRun, PodContext, simulate

Obj = dict[str, Any]
MOUNT_FIRST_MS = 500
MOUNT_MAX_MS = 122_000
SANDBOX_MS = 1_000
STAGGER_MS = 200  # the pod worker starts app containers one after another


@dataclass
class PodRun:
    """The derived run of one pod (times in ms since its start)."""

    ctx: PodContext
    sandbox_at: int | None
    inits: list[ContainerRun] = field(default_factory=list)
    apps: list[ContainerRun] = field(default_factory=list)
    init_done_at: int | None = None

    @property
    def has_inits(self) -> bool:
        return bool(self.inits)


def _mounted_at(ctx: PodContext, pod_spec: Obj) -> int | None:
    """When every ConfigMap/Secret volume could be set up (None: not by the horizon)."""
    t, delay = 0, MOUNT_FIRST_MS
    ns = ctx.facts.namespace
    while t <= ctx.horizon:
        failure = volume_error(pod_spec, ns, ctx.index, ctx.at(t))
        if failure is None:
            return t
        message = f'MountVolume.SetUp failed for volume "{failure[0]}" : {failure[1]}'
        if delay < MOUNT_MAX_MS:
            ctx.events.add(t, "Warning", "FailedMount", message, None)
            t, delay = t + delay, min(2 * delay, MOUNT_MAX_MS)
            continue
        change = ctx.next_change(t)
        if change is None or change > ctx.horizon:
            ctx.events.add(t, "Warning", "FailedMount", message, None, MOUNT_MAX_MS, BIG)
            return None
        n = -(-(change - t) // MOUNT_MAX_MS)
        ctx.events.add(t, "Warning", "FailedMount", message, None, MOUNT_MAX_MS, n)
        t += n * MOUNT_MAX_MS
    return None


def _waiting(ctx: PodContext, container: Obj, kind: str, reason: str) -> ContainerRun:
    run = ContainerRun(container, kind, ctx.registry.get(str(container.get("image", ""))))
    run.waiting = (reason, None)
    return run


def run_pod(ctx: PodContext, pod_spec: Obj) -> PodRun:
    """Replay the pod from its start to the horizon."""
    inits = list(pod_spec.get("initContainers") or [])
    apps = list(pod_spec.get("containers") or [])
    mounted = _mounted_at(ctx, pod_spec)
    if mounted is None:
        app_reason = "PodInitializing" if inits else "ContainerCreating"
        return PodRun(ctx, None,
                      [_waiting(ctx, c, _init_kind(c), "PodInitializing") for c in inits],
                      [_waiting(ctx, c, "app", app_reason) for c in apps])
    sandbox = mounted + SANDBOX_MS
    pod = PodRun(ctx, sandbox)
    t: int | None = sandbox
    for c in inits:
        kind = _init_kind(c)
        if t is None or t > ctx.horizon:
            pod.inits.append(_waiting(ctx, c, kind, "PodInitializing"))
            t = None
            continue
        run = simulate(ctx, c, kind, t)
        pod.inits.append(run)
        t = None if run.done_at is None else run.done_at + PLEG_MS
    pod.init_done_at = t
    for j, c in enumerate(apps):
        x = None if t is None else t + j * STAGGER_MS
        if x is None or x > ctx.horizon:
            pod.apps.append(_waiting(ctx, c, "app", "PodInitializing" if inits else "ContainerCreating"))
        else:
            pod.apps.append(simulate(ctx, c, "app", x))
    return pod


def _init_kind(container: Obj) -> str:
    return "sidecar" if container.get("restartPolicy") == "Always" else "init"

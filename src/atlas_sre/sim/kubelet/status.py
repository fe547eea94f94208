"""`status` of a pod as the kubelet reports it: container statuses, phase and conditions.

Field names, their order (Go struct order, which `-o json` shows) and the phase rules follow the
kubelet 1.32 (`getPhase`, `generateAPIPodStatus`, the condition generators), because the API
server's tables and `kubectl describe` read exactly these fields.
"""

from __future__ import annotations

import hashlib
from typing import Any

from atlas_sre.sim.kubelet import images as img
from atlas_sre.sim.kubelet.pod import PodRun
from atlas_sre.sim.kubelet.timeline import ContainerRun, Instance, PodContext

Obj = dict[str, Any]
EPOCH_START = "1970-01-01T00:00:00Z"  # runc never started the process (StartError)
_STATUS_ORDER = ("phase", "conditions", "message", "reason", "nominatedNodeName", "hostIP", "hostIPs",
                 "podIP", "podIPs", "startTime", "initContainerStatuses", "containerStatuses", "qosClass")


def container_id(seed: int, ctx: PodContext, run: ContainerRun, inst: Instance) -> str:
    """A stable `containerd://<64 hex>` per container instance."""
    raw = f"{seed}/{ctx.facts.uid}/{run.name}/{inst.number}".encode()
    return "containerd://" + hashlib.sha256(raw).hexdigest()


def _terminated(ctx: PodContext, inst: Instance, cid: str) -> Obj:
    prof = inst.profile
    out: Obj = {"exitCode": prof.exit_code, "reason": prof.reason}
    if prof.start_error:
        out["message"] = prof.start_error
    out["startedAt"] = EPOCH_START if inst.started is None else ctx.iso(inst.started)
    out["finishedAt"] = ctx.iso(inst.finished or 0)
    out["containerID"] = cid
    return out


def running_now(run: ContainerRun) -> Instance | None:
    """The instance running at the horizon, if any."""
    if run.waiting or run.terminated_shown or not run.instances:
        return None
    inst = run.instances[-1]
    return inst if inst.finished is None and inst.started is not None else None


def _flags(ctx: PodContext, run: ContainerRun) -> tuple[bool, bool]:
    """(ready, started) at the horizon."""
    if run.kind == "init":
        done = run.done_at is not None
        return done, running_now(run) is not None and not done
    inst = running_now(run)
    if inst is None or inst.started is None:
        return False, False
    prof, h = inst.profile, ctx.horizon
    started = prof.started_after is not None and inst.started + prof.started_after <= h
    ready = started and prof.ready_after is not None and inst.started + prof.ready_after <= h
    return ready, started


def container_status(seed: int, ctx: PodContext, run: ContainerRun) -> Obj:
    """One `containerStatuses[]` / `initContainerStatuses[]` entry."""
    image = str(run.container.get("image", ""))
    insts = run.instances
    latest = insts[-1] if insts else None
    ready, started = _flags(ctx, run)
    state: Obj
    last: Obj = {}
    if run.waiting:
        waiting: Obj = {"reason": run.waiting[0]}
        if run.waiting[1]:
            waiting["message"] = run.waiting[1]
        state = {"waiting": waiting}
        if latest is not None:
            last = {"terminated": _terminated(ctx, latest, container_id(seed, ctx, run, latest))}
    else:
        assert latest is not None
        cid = container_id(seed, ctx, run, latest)
        if run.terminated_shown:
            state = {"terminated": _terminated(ctx, latest, cid)}
        else:
            state = {"running": {"startedAt": ctx.iso(latest.started or 0)}}
        if len(insts) >= 2:
            prev = insts[-2]
            last = {"terminated": _terminated(ctx, prev, container_id(seed, ctx, run, prev))}
    out: Obj = {"name": run.name, "state": state, "lastState": last, "ready": ready,
                "restartCount": run.restarts}
    pulled = latest is not None
    out["image"] = img.normalize(image) if pulled else image
    out["imageID"] = img.image_id(image) if pulled else ""
    if latest is not None:
        out["containerID"] = container_id(seed, ctx, run, latest)
    out["started"] = started
    mounts = run.container.get("volumeMounts") or []
    if pulled and mounts:
        out["volumeMounts"] = [_mount(m) for m in mounts]
    return out


def _mount(m: Obj) -> Obj:
    out: Obj = {"name": m.get("name"), "mountPath": m.get("mountPath")}
    if m.get("readOnly"):
        out["readOnly"] = True
        out["recursiveReadOnly"] = "Disabled"
    return out


def phase(pod: PodRun) -> str:
    """The kubelet's `getPhase`."""
    policy = pod.ctx.restart_policy
    if pod.sandbox_at is None:
        return "Pending"
    for run in pod.inits:
        if run.kind == "init" and run.terminated_shown and run.done_at is None and policy == "Never":
            return "Failed"
    if pod.init_done_at is None:
        return "Pending"
    running = waiting = stopped = succeeded = 0
    for run in pod.apps:
        if run.waiting:
            if run.instances:
                stopped += 1
            else:
                waiting += 1
        elif run.terminated_shown:
            stopped += 1
            succeeded += run.instances[-1].profile.exit_code == 0
        elif running_now(run) is not None:
            running += 1
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"


def _cond(type_: str, ok: bool, at: str, reason: str | None = None, message: str | None = None) -> Obj:
    out: Obj = {"type": type_, "status": "True" if ok else "False", "lastProbeTime": None, "lastTransitionTime": at}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def _ready_since(ctx: PodContext, run: ContainerRun, pod_start: int) -> tuple[bool, int]:
    """(ready now, since when its readiness last changed)."""
    ready, _ = _flags(ctx, run)
    insts = run.instances
    if ready:
        inst = insts[-1]
        return True, (inst.started or 0) + (inst.profile.ready_after or 0)
    for inst in reversed(insts):
        prof = inst.profile
        if inst.finished is not None and inst.started is not None and prof.ready_after is not None \
                and inst.started + prof.ready_after < inst.finished:
            return False, inst.finished
    return False, pod_start


def conditions(pod: PodRun, scheduled: Obj | None, phase_: str) -> list[Obj]:
    """PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled (1.32 order)."""
    ctx = pod.ctx
    iso = ctx.iso
    done = phase_ in ("Succeeded", "Failed")
    finish = max((i.finished or 0 for r in pod.apps for i in r.instances), default=0)
    if pod.sandbox_at is None:
        sandbox = _cond("PodReadyToStartContainers", False, iso(0))
    else:
        sandbox = _cond("PodReadyToStartContainers", not done, iso(finish if done else pod.sandbox_at))
    pending_inits = [r.name for r in pod.inits if r.done_at is None]
    if not pod.inits:
        init = _cond("Initialized", True, iso(0), "PodCompleted" if phase_ == "Succeeded" else None)
    elif not pending_inits:
        init = _cond("Initialized", True, iso(pod.init_done_at or 0),
                     "PodCompleted" if phase_ == "Succeeded" else None)
    else:
        init = _cond("Initialized", False, iso(0), "ContainersNotInitialized",
                     f"containers with incomplete status: [{' '.join(pending_inits)}]")
    watched = [r for r in pod.inits if r.kind == "sidecar"] + pod.apps
    states = [(r.name, *_ready_since(ctx, r, 0)) for r in watched]
    unready = [name for name, ok, _ in states if not ok]
    if done:  # terminal phases report why, whatever the containers said last
        why = "PodCompleted" if phase_ == "Succeeded" else "PodFailed"
        ready = [_cond(t, False, iso(finish), why) for t in ("Ready", "ContainersReady")]
    elif not unready:
        at = iso(max((since for _, _, since in states), default=0))
        ready = [_cond(t, True, at) for t in ("Ready", "ContainersReady")]
    else:
        at = iso(min(since for _, ok, since in states if not ok))
        msg = f"containers with unready status: [{' '.join(unready)}]"
        ready = [_cond(t, False, at, "ContainersNotReady", msg) for t in ("Ready", "ContainersReady")]
    sched = scheduled or _cond("PodScheduled", True, iso(0))
    return [sandbox, init, *ready, sched]


def pod_status(seed: int, pod: PodRun, existing: Obj, qos: str) -> Obj:
    """The complete `status` for a pod the kubelet runs."""
    ctx = pod.ctx
    p = phase(pod)
    scheduled = next((c for c in existing.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
    fresh: Obj = {"phase": p, "conditions": conditions(pod, scheduled, p), "startTime": ctx.iso(0),
                  "containerStatuses": [container_status(seed, ctx, r) for r in pod.apps], "qosClass": qos}
    if pod.inits:
        fresh["initContainerStatuses"] = [container_status(seed, ctx, r) for r in pod.inits]
    merged = {**existing, **fresh}
    if pod.sandbox_at is None:
        merged.pop("podIP", None)
        merged.pop("podIPs", None)
    ordered = {k: merged[k] for k in _STATUS_ORDER if k in merged}
    ordered.update({k: v for k, v in merged.items() if k not in ordered})
    return ordered

"""The kubelet stage: every scheduled pod's status, container events, logs and resource usage.

Nothing here is scripted per symptom. Each pod is replayed from its start (its creation time in
scenario time) to the observation instant on the kubelet's own rules: volumes, image pulls with
back-off, container configuration, the command, the process's behaviour from the hidden registry
(start-up requirements, exit, memory, health endpoints), probes, and restarts with the real
CrashLoopBackOff timers. Modules:

- `kubelet_config`: env/volume/command resolution against ConfigMaps and Secrets (time-aware);
- `kubelet_runtime` + `kubelet_probes`: what one container instance does;
- `kubelet_timeline` + `kubelet_pod`: the loops over time;
- `kubelet_status`, `kubelet_output`, `kubelet_events`: what the API serves from it.

`template_becomes_ready` answers the controllers' question "would pods from this template become
ready?" with the same functions, so a rollout's outcome and its pods never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from atlas_sre.kube.requests import qos_class
from atlas_sre.sim.clock import SimClock, parse_time
from atlas_sre.sim.images import Registry
from atlas_sre.sim.kubelet import images as img
from atlas_sre.sim.kubelet.config import ConfigIndex, PodFacts, resolve_env, volume_error
from atlas_sre.sim.kubelet.events import PodEvents, publish
from atlas_sre.sim.kubelet.output import usage_of, write_logs
from atlas_sre.sim.kubelet.pod import SANDBOX_MS, PodRun, run_pod
from atlas_sre.sim.kubelet.runtime import run_profile
from atlas_sre.sim.kubelet.status import pod_status
from atlas_sre.sim.kubelet.timeline import PodContext
from atlas_sre.sim.objects.index import remove_object
from atlas_sre.sim.state import ClusterState, SimSpec

Obj = dict[str, Any]
CONFIG_KEY = "kubelet_config_index"
CREATED_KEY = "created_at"
REGISTRY_KEY = "registry"
# pod uid -> when a controller deleted it (scenario time): a failed Job's active pods
DELETED_KEY = "pod_deleted_at"
_STATUS_KEYS = ("phase", "conditions", "message", "reason", "nominatedNodeName", "hostIP", "hostIPs",
                "podIP", "podIPs", "startTime", "qosClass")


def _registry(spec: SimSpec, state: ClusterState) -> Registry:
    return state.extras.get(REGISTRY_KEY, spec.registry)


def _config(spec: SimSpec, state: ClusterState, fresh: bool = False) -> ConfigIndex:
    index = None if fresh else state.extras.get(CONFIG_KEY)
    if index is None:
        index = state.extras[CONFIG_KEY] = ConfigIndex.build(spec, state)
    return index


def pod_start(state: ClusterState, pod: Obj) -> datetime:
    """The pod's start in scenario time: the controllers' record, else its creationTimestamp or, for
    a pod bound after it was created (room freed later, a preemption), when it was bound."""
    md = pod["metadata"]
    recorded = (state.extras.get(CREATED_KEY) or {}).get((md.get("namespace"), md.get("name")))
    if recorded is not None:
        return recorded
    start = parse_time(md["creationTimestamp"]) - state.clock.shift if md.get("creationTimestamp") \
        else state.clock.start
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "PodScheduled" and c.get("status") == "True" and c.get("lastTransitionTime"):
            start = max(start, parse_time(c["lastTransitionTime"]) - state.clock.shift)
    return start


def _images(spec: Obj) -> list[str]:
    return [str(c.get("image", "")) for key in ("initContainers", "containers") for c in spec.get(key) or []]


def _facts(pod: Obj, namespace: str) -> PodFacts:
    md, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    return PodFacts(namespace, str(md.get("name", "")), str(md.get("uid", "")), str(spec.get("nodeName", "")),
                    str(status.get("podIP", "")), str(status.get("hostIP", "")),
                    str(spec.get("serviceAccountName") or "default"),
                    dict(md.get("labels") or {}), dict(md.get("annotations") or {}))


def _pending(pod: Obj, qos: str) -> None:
    status = {**(pod.get("status") or {}), "qosClass": qos}
    status["phase"] = status.get("phase") or "Pending"
    pod["status"] = {k: status[k] for k in _STATUS_KEYS if k in status} | {
        k: v for k, v in status.items() if k not in _STATUS_KEYS}


def _context(pod: Obj, ns: str, start: datetime, horizon: int, registry: Registry, index: ConfigIndex,
             events: PodEvents, present: Callable[[str], bool], clock: SimClock) -> PodContext:
    md, pod_spec = pod["metadata"], pod.get("spec") or {}
    return PodContext(_facts(pod, ns), start, horizon, registry, index, events, present,
                      str(pod_spec.get("restartPolicy") or "Always"),
                      int(pod_spec.get("terminationGracePeriodSeconds", 30)) * 1000,
                      f"{md.get('name')}_{ns}({md.get('uid', '')})", clock)


def _stopped(ctx: PodContext, run: PodRun) -> None:
    """The kubelet's `Killing` events when a deleted pod's containers are stopped."""
    for r in run.apps:
        if r.instances and r.instances[-1].finished is None:
            ctx.events.add(ctx.horizon, "Normal", "Killing", f"Stopping container {r.name}",
                           f"spec.containers{{{r.name}}}")


def kubelet_stage(spec: SimSpec, state: ClusterState) -> None:
    """Derive status, events, logs and usage for every pod at `clock.observe_at`."""
    clock = state.clock
    registry = _registry(spec, state)
    index = _config(spec, state, fresh=True)
    nodes = {o["metadata"]["name"] for o in state.objects if o.get("kind") == "Node"}
    pods = [o for o in state.objects if o.get("kind") == "Pod"]
    starts = {id(p): pod_start(state, p) for p in pods}
    first_seen: dict[tuple[str, str], datetime] = {}
    for p in pods:
        node = (p.get("spec") or {}).get("nodeName")
        for image in _images(p.get("spec") or {}) if node in nodes else []:
            key = (node, image)
            if key not in first_seen or starts[id(p)] < first_seen[key]:
                first_seen[key] = starts[id(p)]
    for pod in pods:
        pod_spec = pod.get("spec") or {}
        status = pod.get("status") or {}
        qos = qos_class(pod_spec)
        node = pod_spec.get("nodeName")
        start = starts[id(pod)]
        if status.get("reason") and status.get("phase") in ("Succeeded", "Failed"):
            continue  # evicted or otherwise ended by the control plane: its status is final
        if not node or node not in nodes or start > clock.observe_at:
            _pending(pod, qos)
            continue
        md = pod["metadata"]
        ns = md.get("namespace") or "default"
        horizon = int((clock.observe_at - start).total_seconds() * 1000)

        def present(image: str, _node: str = node, _start: datetime = start) -> bool:
            seen = first_seen.get((_node, image))
            if seen is None or image not in registry:
                return False
            return (_start - seen).total_seconds() * 1000 > img.pull_ms(image) + SANDBOX_MS

        deleted = (state.extras.get(DELETED_KEY) or {}).get(md.get("uid"))
        if deleted is not None and deleted <= clock.observe_at:
            horizon = max(0, int((deleted - start).total_seconds() * 1000))
        events = PodEvents(horizon)
        ctx = _context(pod, ns, start, horizon, registry, index, events, present, clock)
        run = run_pod(ctx, pod_spec)
        if deleted is not None and deleted <= clock.observe_at:
            _stopped(ctx, run)  # a controller deleted the pod: its events stay, the pod is gone
            publish(state, pod, start, events, node)
            remove_object(state, pod)
            continue
        pod["status"] = pod_status(spec.seed, run, status, qos)
        usage = {}
        for r in [*run.inits, *run.apps]:
            write_logs(state, ctx, r)
            used = usage_of(ctx, r)
            if used is not None:
                usage[r.name] = used
        if usage:
            state.pod_usage[(ns, str(md.get("name")))] = usage
        publish(state, pod, start, events, node)


def template_becomes_ready(
    spec: SimSpec, state: ClusterState, pod_template: Obj, namespace: str, at: datetime | None = None
) -> bool:
    """Whether pods created from `pod_template` at `at` (default: observation) would become ready.

    True when every image pulls, volumes and env resolve, every init container exits 0, and every
    app container starts, passes its probes and keeps running past the kubelet's 10-minute "ran
    fine" mark (a leak that OOMs hours later still lets a rollout finish).
    """
    when = at or state.clock.observe_at
    registry = _registry(spec, state)
    index = _config(spec, state)
    pod_spec = pod_template.get("spec") or {}
    if volume_error(pod_spec, namespace, index, when) is not None:
        return False
    md = pod_template.get("metadata") or {}
    facts = PodFacts(namespace, str(md.get("name", "")), "", "", "", "", str(pod_spec.get("serviceAccountName") or
                     "default"), dict(md.get("labels") or {}), dict(md.get("annotations") or {}))
    grace = int(pod_spec.get("terminationGracePeriodSeconds", 30)) * 1000
    for key in ("initContainers", "containers"):
        for c in pod_spec.get(key) or []:
            behaviour = registry.get(str(c.get("image", "")))
            if behaviour is None:
                return False
            env, err = resolve_env(c, facts, index, when)
            if err is not None:
                return False
            kind = "app" if key == "containers" else ("sidecar" if c.get("restartPolicy") == "Always" else "init")
            values = {"namespace": namespace, "container": str(c.get("name", ""))}
            prof = run_profile(c, behaviour, env, "", grace, values, with_probes=kind != "init")
            if kind == "init" and not prof.completes():
                return False
            if kind == "sidecar" and (prof.start_error or prof.started_after is None):
                return False
            if kind == "app" and not prof.steady():
                return False
    return True

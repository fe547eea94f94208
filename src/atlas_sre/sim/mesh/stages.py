"""The mesh room's pipeline stages: control plane and sidecar injection, traffic, alerts.

- `with_control_plane(materialize)`: the first stage sees the scenario's manifests plus the Istio
  control plane (when the scenario uses the mesh), so istiod and the ingress gateway flow through
  the same controllers, scheduler and kubelet as everything else. Once istiod is stored, it adds
  Istio's images to the registry the kubelet reads and registers the injection webhook with the
  workload room's admission chain (`podgen.register_mutator`), so every pod is injected as it is
  created: quota admission and the scheduler count the sidecar's requests.
- `mesh_traffic` (after endpoints and status rollups, before the HPA and node usage read pod
  usage): evaluates traffic now and, when `spec.history` changed mesh-relevant objects, as it was
  before the change; writes proxy start-up lines, access logs and app request logs, the metrics,
  the entry-point summary, and request-driven CPU.
- `mesh_alerts` (last): firing alerts from the metrics and from object state.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import replace
from datetime import datetime
from typing import Any

from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.mesh import istio
from atlas_sre.sim.mesh.accesslog import WINDOW, Period, write_logs
from atlas_sre.sim.mesh.alerts import mesh_alerts as golden_signal_alerts
from atlas_sre.sim.mesh.alerts_k8s import pod_alerts, target_alerts, workload_alerts
from atlas_sre.sim.mesh.controlplane import control_plane
from atlas_sre.sim.mesh.inject import NEVER, injector, wants_sidecar
from atlas_sre.sim.mesh.istiod_logs import istiod_logs
from atlas_sre.sim.mesh.metrics import add_cpu, blend, entry_summary, request_series
from atlas_sre.sim.mesh.model import Ledger
from atlas_sre.sim.mesh.traffic import evaluate
from atlas_sre.sim.mesh.world import PROXY, World, group_of, labels_of
from atlas_sre.sim.state import ClusterState, LogKey, Obj, SimSpec, Stage
from atlas_sre.sim.workloads.podgen import register_mutator

REGISTRY_KEY = "registry"
REVERTIBLE = {"Service", "VirtualService", "DestinationRule", "PeerAuthentication", "AuthorizationPolicy", "Gateway",
              "Sidecar", "NetworkPolicy", "Namespace", "ConfigMap", "Secret", "ServiceEntry"}


def with_control_plane(stage: Stage) -> Stage:
    """Wrap the materialize stage: store the control plane too, then arm the injection webhook."""
    @functools.wraps(stage)
    def wrapped(spec: SimSpec, state: ClusterState) -> None:
        extra = control_plane(spec)
        stage(replace(spec, manifests=[*spec.manifests, *extra], registry=istio.with_istio(spec.registry))
              if extra else spec, state)
        register_injector(spec, state)
    return wrapped


def _pods(state: ClusterState) -> list[Obj]:
    return [o for o in state.objects if o.get("kind") == "Pod"]


def register_injector(spec: SimSpec, state: ClusterState) -> None:
    """Where istiod is installed: Istio's images in the registry, and its webhook in admission."""
    istiods = [o for o in state.objects
               if o.get("kind") == "Deployment" and labels_of(o).get("app") == "istiod"]
    if not istiods:
        return
    state.extras[REGISTRY_KEY] = istio.with_istio(state.extras.get(REGISTRY_KEY, spec.registry))
    revisions = {labels_of(d).get("istio.io/rev", istio.REVISION) for d in istiods}
    namespaces = {o["metadata"]["name"]: o for o in state.objects if o.get("kind") == "Namespace"}
    register_mutator(state, injector(namespaces, revisions))


def _split_key(key: str) -> tuple[str | None, str, str]:
    parts = key.split("/")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else (None, parts[0], parts[-1])


def reverted(objects: list[Obj], history: dict[str, Any], clock_start: datetime) -> tuple[list[Obj], datetime | None]:
    """The objects as they were before the history's mesh-relevant changes, and the earliest change."""
    out = list(objects)
    first: datetime | None = None
    for key in sorted(history):
        change = history[key]
        ns, kind, name = _split_key(key)
        if kind not in REVERTIBLE or change.at <= clock_start:
            continue
        first = change.at if first is None else min(first, change.at)
        current = [o for o in out if o.get("kind") == kind and o["metadata"]["name"] == name
                   and o["metadata"].get("namespace") == ns]
        out = [o for o in out if not any(o is c for c in current)]
        if change.previous:
            prev = copy.deepcopy(change.previous)
            prev["metadata"] = {**(prev.get("metadata") or {}), "name": name, **({"namespace": ns} if ns else {})}
            prev.setdefault("kind", kind)
            ip = ((current[0].get("spec") or {}).get("clusterIP") if current else None)
            if kind == "Service" and ip and not (prev.get("spec") or {}).get("clusterIP"):
                prev.setdefault("spec", {})["clusterIP"] = ip  # the IP the apiserver kept for the Service
            out.append(prev)
    return out, first


def _sidecars_before(spec: SimSpec, state: ClusterState, objects: list[Obj]) -> dict[str, bool]:
    """Which instances would carry a sidecar under the reverted namespace labels."""
    changed = {_split_key(k)[2] for k in spec.history if _split_key(k)[1] == "Namespace"}
    if not changed:
        return {}
    labels = {o["metadata"]["name"]: labels_of(o) for o in objects if o.get("kind") == "Namespace"}
    out: dict[str, bool] = {}
    for pod in _pods(state):
        md = pod["metadata"]
        ns = md.get("namespace", "default")
        if ns in changed and ns not in NEVER:
            out[f"{ns}/{group_of(pod)}"] = wants_sidecar(labels.get(ns, {}), md.get("labels") or {},
                                                         md.get("annotations") or {}, {istio.REVISION})
    return out


def _proxy_startup(state: ClusterState) -> None:
    clock = state.clock
    for pod in _pods(state):
        md, status = pod["metadata"], pod.get("status") or {}
        ns, name = md.get("namespace", "default"), md["name"]
        for cs in status.get("containerStatuses") or []:
            running = (cs.get("state") or {}).get("running") or {}
            if cs.get("name") == PROXY and running.get("startedAt"):
                t0 = parse_time(running["startedAt"]) - clock.shift
                router = labels_of(pod).get("istio") == "ingressgateway"
                for t, text in istio.proxy_startup(clock, t0, name, ns, status.get("podIP", ""), router):
                    state.add_log(LogKey(ns, name, PROXY), t, text)
        for cs in status.get("initContainerStatuses") or []:
            done = (cs.get("state") or {}).get("terminated") or {}
            if cs.get("name") == "istio-init" and done.get("startedAt"):
                t0 = parse_time(done["startedAt"]) - clock.shift
                for t, text in istio.init_lines(clock, t0):
                    state.add_log(LogKey(ns, name, "istio-init"), t, text)


def mesh_traffic(spec: SimSpec, state: ClusterState) -> None:
    """Evaluate traffic before/after the change and write logs, metrics, load and CPU."""
    clock = state.clock
    registry = state.extras.get(REGISTRY_KEY, spec.registry)
    entries = (spec.traffic or {}).get("entrypoints")
    world = World(state.objects, registry, spec.seed, clock=clock, history=spec.history)
    after = evaluate(world, entries)
    objects, change = reverted(state.objects, spec.history, clock.start)
    before = after
    if change is not None and change <= clock.observe_at:
        before_world = World(objects, registry, spec.seed, _sidecars_before(spec, state, objects), clock)
        before = evaluate(before_world, entries)
    elif change is not None:
        change = None
    start = clock.observe_at - WINDOW
    if change is not None and change > start:
        periods = [Period(start, change, before), Period(change, clock.observe_at, after)]
    else:
        periods = [Period(start, clock.observe_at, after)]
    _proxy_startup(state)
    istiod_logs(spec, state)
    write_logs(state, world, periods, spec.seed)
    span = WINDOW.total_seconds()
    window = blend([((p.end - p.start).total_seconds() / span, p.ledger) for p in periods])
    state.extras["mesh_metrics"] = request_series(window)
    state.extras["mesh_entrypoints"] = entry_summary(window)
    state.extras["mesh_load"] = add_cpu(state, world, after)
    state.extras["mesh_traffic"] = {"before": before, "after": after, "change": change}


def mesh_alerts(spec: SimSpec, state: ClusterState) -> None:
    """Every firing alert, sorted, in `state.extras["alerts"]`."""
    traffic = state.extras.get("mesh_traffic") or {"before": Ledger(), "after": Ledger(), "change": None}
    thresholds = (spec.traffic or {}).get("alerts") or {}
    alerts = golden_signal_alerts(traffic["before"], traffic["after"], traffic["change"], state.clock, thresholds)
    alerts += pod_alerts(_pods(state), state.clock)
    alerts += workload_alerts(state.objects, state.clock)
    alerts += target_alerts(state.objects, state.clock)
    order = ("service", "deployment", "pod", "container", "horizontalpodautoscaler", "resourcequota", "resource")
    alerts.sort(key=lambda a: (a["alertname"], a.get("namespace", ""), *(str(a.get(k, "")) for k in order)))
    state.extras["alerts"] = alerts


def firing_alerts(state: ClusterState) -> list[dict[str, Any]]:
    """The alerts `mesh_alerts` derived for `state`, as copies (empty when it computed none).

    The public way to read them: callers above the simulator (the scenario environment) must not
    reach into `state.extras`, whose keys are the engine's own business.
    """
    return [dict(a) for a in state.extras.get("alerts") or [] if isinstance(a, dict)]

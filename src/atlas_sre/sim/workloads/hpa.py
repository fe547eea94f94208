"""Stage 7: HorizontalPodAutoscaler status (autoscaling/v2) from pod usage versus requests.

The recommendation is the controller's: ceil(ready pods x current/target), no change within the
10% tolerance, clamped to [minReplicas, maxReplicas] with the ScalingLimited reason saying which
bound applied. Only the min/max clamp changes the target (`hpa_scale.py`, at the HPA's first sync);
the metric recommendation is reported, not applied: usage is known only after the kubelet and
traffic stages, and applying it would mean running the controllers and kubelet again.

Conditions are dated from when they began, not from the observation: the HPA's first sync after
it (and its target) existed, the rescale that took the target to a bound, or the last change to
the HPA or its target, so `for: 15m` alerts such as KubeHpaMaxedOut see how long it has held.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from atlas_sre.kube.quantity import amount
from atlas_sre.kube.requests import container_resources
from atlas_sre.sim.events import emit
from atlas_sre.sim.objects.index import index_of
from atlas_sre.sim.objects.meta import born, entity
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.hpa_scale import HPA_COMPONENT, RESCALED_KEY, SYNC
from atlas_sre.sim.workloads.podstatus import active, phase

TOLERANCE = 0.1


def _cond(state: ClusterState, ctype: str, status: str, reason: str, message: str,
          since: datetime) -> dict[str, Any]:
    return {"type": ctype, "status": status, "lastTransitionTime": state.clock.iso(since), "reason": reason,
            "message": message}


def _times(spec: SimSpec, state: ClusterState, hpa: Obj, target: Obj | None) -> tuple[datetime, datetime]:
    """(first sync, since when the current scaling verdict holds), both capped at the observation.

    The verdict dates from the rescale that took the target to a bound, else from the last change
    (history) of the HPA or its target after the first sync, else from the first sync.
    """
    clock = state.clock
    first = max(born(state, hpa), born(state, target) if target is not None else clock.start) + SYNC
    since = state.extras.get(RESCALED_KEY, {}).get(hpa["metadata"]["uid"])
    if since is None:
        since = first
        keys = [entity(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
                for o in (hpa, target) if o is not None]
        for key in keys:
            change = spec.history.get(key)
            if change is not None and change.previous is not None and change.at <= clock.observe_at:
                since = max(since, change.at + SYNC)
    return min(first, clock.observe_at), min(since, clock.observe_at)


def _metric(state: ClusterState, metric: dict[str, Any], pods: list[Obj]) -> tuple[int, dict[str, Any]] | str:
    """(recommended replicas, currentMetrics entry) for one Resource metric, or an error message."""
    res = metric.get("resource") or {}
    name, target = str(res.get("name", "cpu")), res.get("target") or {}
    requested = used = counted = 0
    for pod in pods:
        md = pod["metadata"]
        usage = state.pod_usage.get((md["namespace"], md["name"]))
        for c in pod["spec"].get("containers") or []:
            req = container_resources(c)[0].get(name)
            if req is None and target.get("type", "Utilization") == "Utilization":
                return (f"failed to get {name} utilization: missing request for {name} in container "
                        f"{c['name']} of Pod {md['name']}")
            requested += req or 0
        if usage:
            counted += 1
            for u in usage.values():
                used += u.cpu_milli if name == "cpu" else u.memory_mi * 2**20
    if not counted:
        return f"failed to get {name} utilization: unable to get metrics for resource {name}: no metrics returned " \
               "from resource metrics API"
    current: dict[str, Any] = {"averageValue": f"{used // counted}m" if name == "cpu" else str(used // counted)}
    if target.get("type", "Utilization") == "Utilization":
        utilization = int(round(used * 100 / requested)) if requested else 0
        current["averageUtilization"] = utilization
        ratio = utilization / float(target.get("averageUtilization", 80))
    else:
        ratio = (used / counted) / max(amount(name, target.get("averageValue", 1)), 1)
    desired = counted if abs(ratio - 1.0) <= TOLERANCE else math.ceil(ratio * counted)
    return desired, {"type": "Resource", "resource": {"name": name, "current": current}}


def _limited(state: ClusterState, desired: int, low: int, high: int, since: datetime) -> dict[str, Any]:
    """The ScalingLimited condition for a recommendation against the bounds."""
    if desired > high:
        return _cond(state, "ScalingLimited", "True", "TooManyReplicas",
                     "the desired replica count is more than the maximum replica count", since)
    if desired < low:
        return _cond(state, "ScalingLimited", "True", "TooFewReplicas",
                     "the desired replica count is less than the minimum replica count", since)
    return _cond(state, "ScalingLimited", "False", "DesiredWithinRange",
                 "the desired count is within the acceptable range", since)


def _missing_target(state: ClusterState, hpa: Obj, ref: dict[str, Any], first: datetime) -> None:
    msg = (f"the HPA controller was unable to get the target's current scale: "
           f"{str(ref.get('kind', '')).lower()}s.apps \"{ref.get('name')}\" not found")
    hpa["status"] = {"currentReplicas": 0, "desiredReplicas": 0,
                     "conditions": [_cond(state, "AbleToScale", "False", "FailedGetScale", msg, first)]}
    emit(state, hpa, "FailedGetScale", msg.split(": ", 1)[1], first=first, type_="Warning",
         component=HPA_COMPONENT)


def _unmeasured(state: ClusterState, hpa: Obj, status: dict[str, Any], got_scale: dict[str, Any], error: str,
                first: datetime) -> None:
    """No metric could be read: ScalingActive False and the recurring FailedGetResourceMetric warning."""
    status["desiredReplicas"] = status["currentReplicas"]
    inactive = _cond(state, "ScalingActive", "False", "FailedGetResourceMetric",
                     f"the HPA was unable to compute the replica count: {error}", first)
    status["conditions"] = [got_scale, inactive]
    start = first + SYNC
    count = max(1, int((state.clock.observe_at - start) / SYNC))
    emit(state, hpa, "FailedGetResourceMetric", error, first=start, last=start + SYNC * (count - 1),
         count=count, type_="Warning", component=HPA_COMPONENT)
    hpa["status"] = status


def reconcile_hpa(spec: SimSpec, state: ClusterState) -> None:
    """Fill every HPA's status and conditions."""
    idx = index_of(state)
    for hpa in idx.list("HorizontalPodAutoscaler"):
        hspec, ns = hpa.setdefault("spec", {}), hpa["metadata"]["namespace"]
        hspec.setdefault("minReplicas", 1)
        if hpa.get("apiVersion") == "autoscaling/v2" and not hspec.get("metrics"):
            hspec["metrics"] = [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
        ref = hspec.get("scaleTargetRef") or {}
        target = idx.get(str(ref.get("kind")), ns, str(ref.get("name")))
        first, since = _times(spec, state, hpa, target)
        if target is None:
            _missing_target(state, hpa, ref, first)
            continue
        current = int(target["spec"].get("replicas", 1))
        got_scale = _cond(state, "AbleToScale", "True", "SucceededGetScale",
                          "the HPA controller was able to get the target's current scale", first)
        if current == 0 and int(hspec["minReplicas"]) != 0:
            hpa["status"] = {"currentReplicas": 0, "desiredReplicas": 0, "conditions": [
                got_scale, _cond(state, "ScalingActive", "False", "ScalingDisabled",
                                 "scaling is disabled since the replica count of the target is zero", since)]}
            continue
        selector = (target["spec"].get("selector") or {})
        pods = [p for p in active(idx.select_pods(ns, selector)) if phase(p) == "Running"]
        metrics = hspec.get("metrics") or [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization",
                                      "averageUtilization": hspec.get("targetCPUUtilizationPercentage", 80)}}}]
        desired, current_metrics, error = 0, [], None
        for m in metrics:
            if m.get("type") != "Resource":
                continue
            out = _metric(state, m, pods)
            if isinstance(out, str):
                error = error or out
                continue
            desired = max(desired, out[0])
            current_metrics.append(out[1])
        low, high = int(hspec["minReplicas"]), int(hspec.get("maxReplicas", current))
        status: dict[str, Any] = {"currentReplicas": current}
        if error and not current_metrics:
            _unmeasured(state, hpa, status, got_scale, error, first)
            continue
        clamped = min(max(desired, low), high)
        if clamped == current:
            able = _cond(state, "AbleToScale", "True", "ReadyForNewScale",
                         "recommended size matches current size", since)
        else:
            able = _cond(state, "AbleToScale", "True", "SucceededRescale",
                         f"the HPA controller was able to update the target scale to {clamped}", since)
        name = current_metrics[0]["resource"]["name"] if current_metrics else "cpu"
        valid = _cond(state, "ScalingActive", "True", "ValidMetricFound",
                      f"the HPA was able to successfully calculate a replica count from {name} resource "
                      "utilization (percentage of request)", first)
        status.update(desiredReplicas=clamped, currentMetrics=current_metrics,
                      conditions=[able, valid, _limited(state, desired, low, high, since)])
        hpa["status"] = status

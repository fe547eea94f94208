"""Stage 7: HorizontalPodAutoscaler status (autoscaling/v2) from pod usage versus requests.

The recommendation is the controller's: ceil(ready pods x current/target), no change within the
10% tolerance, clamped to [minReplicas, maxReplicas] with the ScalingLimited reason saying which
bound applied. The recommendation is *not* applied to the target here (that would mean running
the controllers and kubelet again); only the min/max clamp is, by the controllers stage.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.index import index_of
from atlas_sre.sim.workloads.meta import emit
from atlas_sre.sim.workloads.podstatus import active, phase
from atlas_sre.sim.workloads.quantity import amount, container_resources

HPA_COMPONENT = "horizontal-pod-autoscaler"
TOLERANCE = 0.1
SYNC = timedelta(seconds=15)  # --horizontal-pod-autoscaler-sync-period
def _cond(state: ClusterState, ctype: str, status: str, reason: str, message: str) -> dict[str, Any]:
    since = state.clock.iso(state.clock.observe_at - timedelta(minutes=5))
    return {"type": ctype, "status": status, "lastTransitionTime": since, "reason": reason, "message": message}


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
        if target is None:
            msg = (f"the HPA controller was unable to get the target's current scale: "
                   f"{str(ref.get('kind', '')).lower()}s.apps \"{ref.get('name')}\" not found")
            hpa["status"] = {"currentReplicas": 0, "desiredReplicas": 0,
                             "conditions": [_cond(state, "AbleToScale", "False", "FailedGetScale", msg)]}
            emit(state, hpa, "FailedGetScale", msg.split(": ", 1)[1],
                 first=state.clock.observe_at - timedelta(minutes=5),
                 type_="Warning", component=HPA_COMPONENT)
            continue
        current = int(target["spec"].get("replicas", 1))
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
            status["desiredReplicas"] = current
            status["conditions"] = [
                _cond(state, "AbleToScale", "True", "SucceededGetScale",
                      "the HPA controller was able to get the target's current scale"),
                _cond(state, "ScalingActive", "False", "FailedGetResourceMetric",
                      f"the HPA was unable to compute the replica count: {error}")]
            first = state.clock.start + timedelta(seconds=30)
            count = max(1, int((state.clock.observe_at - first) / SYNC))
            emit(state, hpa, "FailedGetResourceMetric", error, first=first, last=first + SYNC * (count - 1),
                 count=count, type_="Warning", component=HPA_COMPONENT)
            hpa["status"] = status
            continue
        clamped = min(max(desired, low), high)
        if desired > high:
            limited = _cond(state, "ScalingLimited", "True", "TooManyReplicas",
                            "the desired replica count is more than the maximum replica count")
        elif desired < low:
            limited = _cond(state, "ScalingLimited", "True", "TooFewReplicas",
                            "the desired replica count is less than the minimum replica count")
        else:
            limited = _cond(state, "ScalingLimited", "False", "DesiredWithinRange",
                            "the desired count is within the acceptable range")
        able = (_cond(state, "AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size")
                if clamped == current else
                _cond(state, "AbleToScale", "True", "SucceededRescale",
                      f"the HPA controller was able to update the target scale to {clamped}"))
        name = current_metrics[0]["resource"]["name"] if current_metrics else "cpu"
        active_msg = (f"the HPA was able to successfully calculate a replica count from {name} resource "
                      "utilization (percentage of request)")
        status.update(desiredReplicas=clamped, currentMetrics=current_metrics,
                      conditions=[able, _cond(state, "ScalingActive", "True", "ValidMetricFound", active_msg), limited])
        hpa["status"] = status

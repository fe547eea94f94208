"""The HPA's effect on its target's size: the [minReplicas, maxReplicas] clamp, at the right time.

An HPA that exists from the cluster's start has moved its target into range before anything in
the scenario window happens, so the clamp is applied to `spec.replicas` before the controllers
create pods. An HPA created later (a fault's) rescales the target at its first sync after its
creation, through the Deployment controller's `scale()` step, so the extra pods are created (and
refused or left Pending) at that time. `extras["hpa_rescaled"]` keeps when each HPA moved its
target, for the status stage's condition times.

The metric-driven recommendation is not applied here: pod usage is only known after the kubelet
and traffic stages, and applying it would mean running the controllers again (see `hpa.py`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from atlas_sre.sim.events import emit
from atlas_sre.sim.objects.index import index_of
from atlas_sre.sim.objects.meta import born
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.deployments import Deferred, rescale_deployment

HPA_COMPONENT = "horizontal-pod-autoscaler"
SYNC = timedelta(seconds=15)  # --horizontal-pod-autoscaler-sync-period
RESCALED_KEY = "hpa_rescaled"


def _target(state: ClusterState, hpa: Obj) -> Obj | None:
    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    return index_of(state).get(str(ref.get("kind")), hpa["metadata"]["namespace"], str(ref.get("name")))


def _clamped(hpa: Obj, replicas: int) -> tuple[int, str] | None:
    """(new size, reason) when `replicas` is outside the HPA's bounds; None when it is inside (or 0)."""
    hspec = hpa.get("spec") or {}
    low, high = int(hspec.get("minReplicas", 1)), int(hspec.get("maxReplicas", replicas))
    if replicas == 0 or low <= replicas <= high:  # 0 replicas: scaling is disabled
        return None
    why = "below Spec.MinReplicas" if replicas < low else "above Spec.MaxReplicas"
    return min(max(replicas, low), high), why


def _rescaled(state: ClusterState, hpa: Obj, size: int, why: str, at: datetime) -> None:
    state.extras.setdefault(RESCALED_KEY, {})[hpa["metadata"]["uid"]] = at
    emit(
        state,
        hpa,
        "SuccessfulRescale",
        f"New size: {size}; reason: Current number of replicas {why}",
        first=at,
        component=HPA_COMPONENT,
    )


def clamp_to_hpa(state: ClusterState) -> None:
    """HPAs present at the start move their targets' replicas into range before any pod exists."""
    for hpa in index_of(state).list("HorizontalPodAutoscaler"):
        target = _target(state, hpa)
        if target is None or born(state, hpa) > state.clock.start:
            continue
        out = _clamped(hpa, int(target["spec"].get("replicas", 1)))
        if out is not None:
            target["spec"]["replicas"] = out[0]
            target["metadata"]["generation"] = int(target["metadata"].get("generation", 1)) + 1
            _rescaled(state, hpa, *out, max(born(state, hpa), born(state, target)) + SYNC)


def hpa_actions(spec: SimSpec, state: ClusterState) -> list[Deferred]:
    """The first sync of each HPA created after the start: rescale its Deployment then."""
    actions: list[Deferred] = []
    for hpa in index_of(state).list("HorizontalPodAutoscaler"):
        target = _target(state, hpa)
        if target is None or target.get("kind") != "Deployment" or born(state, hpa) <= state.clock.start:
            continue
        at = max(born(state, hpa), born(state, target)) + SYNC

        def sync(hpa: Obj = hpa, target: Obj = target, at: datetime = at) -> None:
            out = _clamped(hpa, int(target["spec"].get("replicas", 1)))
            if out is not None:
                rescale_deployment(spec, state, target, out[0], at)
                _rescaled(state, hpa, *out, at)

        actions.append((at, sync))
    return actions

"""HorizontalPodAutoscaler over time: when it rescales its target and since when its conditions hold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from atlas_sre.sim.images import ImageBehaviour, Usage
from atlas_sre.sim.state import Change
from conftest import (
    APP_IMAGE,
    FAULT,
    START,
    deployment,
    derive_state,
    events_for,
    get,
    make_spec,
    namespace,
    pods_of,
)

SYNC = timedelta(seconds=15)
FOR = timedelta(minutes=15)


def _hpa(low: int, high: int) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": low,
            "maxReplicas": high,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                }
            ],
        },
    }


def _busy() -> dict[str, ImageBehaviour]:
    return {
        APP_IMAGE: ImageBehaviour(
            listen=[{"port": 8080}], health={"path": "/health"}, usage=Usage(cpuMilli=90, memoryMi=64)
        )
    }


def _web(replicas: int) -> dict[str, Any]:
    return deployment("web", replicas=replicas, resources={"requests": {"cpu": "100m"}})


def _condition(hpa: dict[str, Any], ctype: str) -> dict[str, Any]:
    return next(c for c in hpa["status"]["conditions"] if c["type"] == ctype)


def test_hpa_created_at_the_fault_rescales_then_and_dates_its_limit_from_then() -> None:
    history = {"shop/HorizontalPodAutoscaler/web": Change(FAULT, None)}
    state = derive_state(make_spec([namespace("shop"), _web(1), _hpa(3, 3)], _busy(), history=history))
    iso = state.clock.iso
    deploy = get(state, "Deployment", "shop", "web")
    assert deploy["spec"]["replicas"] == 3
    assert deploy["metadata"]["generation"] == 2 and deploy["status"]["observedGeneration"] == 2
    created = sorted(p["metadata"]["creationTimestamp"] for p in pods_of(state, "shop", "web-"))
    assert created == [iso(START), iso(FAULT + SYNC), iso(FAULT + SYNC)]
    hpa = get(state, "HorizontalPodAutoscaler", "shop", "web")
    [rescale] = events_for(state, hpa, "SuccessfulRescale")
    assert rescale["message"] == "New size: 3; reason: Current number of replicas below Spec.MinReplicas"
    assert rescale["firstTimestamp"] == iso(FAULT + SYNC)
    limited = _condition(hpa, "ScalingLimited")
    assert (limited["status"], limited["reason"]) == ("True", "TooManyReplicas")
    assert limited["lastTransitionTime"] == iso(FAULT + SYNC)
    assert _condition(hpa, "ScalingActive")["lastTransitionTime"] == iso(FAULT + SYNC)
    [maxed] = [a for a in state.extras["alerts"] if a["alertname"] == "KubeHpaMaxedOut"]
    assert maxed["startsAt"] == iso(
        FAULT + SYNC + FOR
    )  # fires: the observation is 30 minutes after the fault


def test_hpa_present_from_the_start_dates_conditions_from_its_first_sync() -> None:
    state = derive_state(make_spec([namespace("shop"), _web(1), _hpa(2, 2)], _busy()))
    hpa = get(state, "HorizontalPodAutoscaler", "shop", "web")
    assert _condition(hpa, "ScalingLimited")["lastTransitionTime"] == state.clock.iso(START + SYNC)
    assert len(pods_of(state, "shop", "web-")) == 2
    assert {p["metadata"]["creationTimestamp"] for p in pods_of(state, "shop", "web-")} == {
        state.clock.iso(START)
    }
    assert [a["alertname"] for a in state.extras["alerts"]].count("KubeHpaMaxedOut") == 1


def test_hpa_of_a_workload_scaled_to_zero_is_disabled() -> None:
    history = {"shop/Deployment/web": Change(FAULT, _web(2))}
    state = derive_state(make_spec([namespace("shop"), _web(0), _hpa(1, 3)], _busy(), history=history))
    hpa = get(state, "HorizontalPodAutoscaler", "shop", "web")
    active = _condition(hpa, "ScalingActive")
    assert (active["status"], active["reason"], active["message"]) == (
        "False",
        "ScalingDisabled",
        "scaling is disabled since the replica count of the target is zero",
    )
    assert active["lastTransitionTime"] == state.clock.iso(FAULT + SYNC)
    assert hpa["status"]["currentReplicas"] == 0 and hpa["status"]["desiredReplicas"] == 0
    assert pods_of(state, "shop", "web-") == []

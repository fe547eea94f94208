"""Objects over scenario time: a Deployment scaled to zero, objects a fault creates, changed objects."""

from __future__ import annotations

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
    of_kind,
    pods_of,
    server,
    service,
)


def _conditions(obj: dict) -> dict[str, dict]:
    return {c["type"]: c for c in obj["status"]["conditions"]}


def test_deployment_scaled_to_zero_is_available_with_no_endpoints() -> None:
    history = {"shop/Deployment/web": Change(FAULT, deployment("web", replicas=2))}
    state = derive_state(
        make_spec([namespace("shop"), deployment("web", replicas=0), service("web")], history=history)
    )
    deploy = get(state, "Deployment", "shop", "web")
    assert pods_of(state, "shop", "web-") == []
    assert {k: deploy["status"].get(k) for k in ("replicas", "readyReplicas", "availableReplicas")} == {
        "replicas": None,
        "readyReplicas": None,
        "availableReplicas": None,
    }  # omitempty: kubectl shows 0/0
    available = _conditions(deploy)["Available"]
    assert (available["status"], available["reason"]) == ("True", "MinimumReplicasAvailable")
    assert _conditions(deploy)["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert deploy["metadata"]["generation"] == 2 and deploy["status"]["observedGeneration"] == 2
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"  # no new template
    [rs] = of_kind(state, "ReplicaSet", "shop")
    assert rs["spec"]["replicas"] == 0 and rs["status"]["replicas"] == 0
    assert rs["metadata"]["generation"] == 2 and rs["status"]["observedGeneration"] == 2  # scaled once
    assert f"Scaled down replica set {rs['metadata']['name']} from 2 to 0" in [
        e["message"] for e in events_for(state, deploy, "ScalingReplicaSet")
    ]
    endpoints = get(state, "Endpoints", "shop", "web")
    assert "subsets" not in endpoints


def test_deployment_with_zero_replicas_from_the_start() -> None:
    state = derive_state(
        make_spec(
            [
                namespace("shop"),
                deployment("web", replicas=0),
                deployment("canary", replicas=0, strategy={"type": "Recreate"}),
            ]
        )
    )
    for name in ("web", "canary"):
        available = _conditions(get(state, "Deployment", "shop", name))["Available"]
        assert (available["status"], available["reason"]) == ("True", "MinimumReplicasAvailable")
    assert pods_of(state, "shop", "web-") == []


def test_deployment_a_fault_creates_starts_at_the_fault() -> None:
    history = {"shop/Deployment/batch": Change(FAULT, None)}
    state = derive_state(
        make_spec(
            [namespace("shop"), deployment("web", replicas=1), deployment("batch", replicas=2)],
            history=history,
        )
    )
    batch = get(state, "Deployment", "shop", "batch")
    assert batch["metadata"]["creationTimestamp"] == state.clock.iso(FAULT)
    assert batch["metadata"]["generation"] == 1
    assert batch["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    [rs] = [r for r in of_kind(state, "ReplicaSet", "shop") if r["metadata"]["name"].startswith("batch-")]
    assert rs["metadata"]["creationTimestamp"] == state.clock.iso(FAULT)
    pods = pods_of(state, "shop", "batch-")
    assert len(pods) == 2
    assert {p["metadata"]["creationTimestamp"] for p in pods} == {state.clock.iso(FAULT)}
    started = [c["state"]["running"]["startedAt"] for p in pods for c in p["status"]["containerStatuses"]]
    assert started and min(started) > state.clock.iso(FAULT)
    [scaled] = events_for(state, batch, "ScalingReplicaSet")
    assert scaled["firstTimestamp"] == state.clock.iso(FAULT)
    assert _conditions(batch)["Progressing"]["lastTransitionTime"] == state.clock.iso(FAULT)
    web = get(state, "Deployment", "shop", "web")  # untouched objects keep the cluster's start
    assert web["metadata"]["creationTimestamp"] == state.clock.iso(START)


def test_quota_a_fault_creates_does_not_refuse_pods_that_already_ran() -> None:
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "pods", "namespace": "shop"},
        "spec": {"hard": {"pods": "1"}},
    }
    history = {"shop/ResourceQuota/pods": Change(FAULT, None)}
    state = derive_state(
        make_spec([namespace("shop"), deployment("web", replicas=2), quota], history=history)
    )
    assert len(pods_of(state, "shop", "web-")) == 2
    stored = get(state, "ResourceQuota", "shop", "pods")
    assert stored["metadata"]["creationTimestamp"] == state.clock.iso(FAULT)
    assert stored["status"]["used"] == {"pods": "2"}
    assert not [e for e in of_kind(state, "Event", "shop") if e["reason"] == "FailedCreate"]


def test_namespace_a_fault_creates_holds_nothing_older_than_itself() -> None:
    history = {"Namespace/batch": Change(FAULT, None), "batch/Deployment/job": Change(FAULT, None)}
    state = derive_state(
        make_spec([namespace("shop"), namespace("batch"), deployment("job", ns="batch")], history=history)
    )
    assert get(state, "Namespace", None, "batch")["metadata"]["creationTimestamp"] == state.clock.iso(FAULT)
    assert get(state, "ServiceAccount", "batch", "default")["metadata"][
        "creationTimestamp"
    ] == state.clock.iso(FAULT)
    assert len(pods_of(state, "batch", "job-")) == 2  # admitted: the default ServiceAccount existed then


def test_changed_deployment_has_generation_and_revision_two() -> None:
    history = {"shop/Deployment/web": Change(FAULT, deployment("web", replicas=2))}
    state = derive_state(
        make_spec(
            [namespace("shop"), deployment("web", replicas=2, image="example.io/app:2.0")],
            {APP_IMAGE: _server(), "example.io/app:2.0": _server()},
            history=history,
        )
    )
    deploy = get(state, "Deployment", "shop", "web")
    assert deploy["metadata"]["creationTimestamp"] == state.clock.iso(START)
    assert deploy["metadata"]["generation"] == 2 and deploy["status"]["observedGeneration"] == 2
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    revisions = sorted(
        r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        for r in of_kind(state, "ReplicaSet", "shop")
    )
    assert revisions == ["1", "2"]


def _server():  # noqa: ANN202 - the conftest image (imported with the rest: a lazy `from conftest` would get
    return server()  # whichever directory's conftest pytest loaded last, e.g. tests/training's)

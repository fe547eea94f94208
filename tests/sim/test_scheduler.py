"""The scheduler: placement, FailedScheduling wording per cause, retries, pod IPs."""

from __future__ import annotations

from datetime import timedelta

from atlas_sre.sim.scheduler.filters import fit_error
from atlas_sre.sim.state import Change
from conftest import (
    FAULT,
    OBSERVE,
    START,
    deployment,
    derive_state,
    events_for,
    get,
    make_spec,
    namespace,
    node,
    pods_of,
)

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
# every cluster has a tainted control-plane node (sim/workloads/kubeadm.py), counted like a real one
CONTROL_PLANE = "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"


def _pending(manifests: list[dict], prefix: str = "web-") -> tuple:
    state = derive_state(make_spec(manifests))
    pods = pods_of(state, "shop", prefix)
    pending = [p for p in pods if not p["spec"].get("nodeName")]
    assert pending, "expected an unschedulable pod"
    return state, pending[0]


def _message(state, pod) -> str:  # noqa: ANN001
    [first] = [e for e in events_for(state, pod, "FailedScheduling") if e["count"] == 1][:1]
    condition = pod["status"]["conditions"][0]
    assert (condition["type"], condition["status"], condition["reason"]) == ("PodScheduled", "False", "Unschedulable")
    assert condition["message"] == first["message"]
    assert first["type"] == "Warning" and first["source"]["component"] == "default-scheduler"
    return first["message"]


def test_fit_error_sorts_counted_reasons_as_strings() -> None:
    message = fit_error(3, {"a": ["node(s) didn't match Pod's node affinity/selector"],
                            "b": ["node(s) didn't match Pod's node affinity/selector"],
                            "c": ["Insufficient memory"]})
    assert message == ("0/3 nodes are available: 1 Insufficient memory, 2 node(s) didn't match Pod's node "
                       f"affinity/selector. preemption: 0/3 nodes are available: 1 {NO_VICTIMS}, 2 {NOT_HELPFUL}..")


def test_insufficient_memory() -> None:
    manifests = [namespace("shop"), node("n1", memory="4Gi"),
                 deployment("web", replicas=1, resources={"requests": {"memory": "6Gi"}})]
    state, pod = _pending(manifests)
    assert _message(state, pod) == (f"0/2 nodes are available: 1 Insufficient memory, {CONTROL_PLANE}. preemption: "
                                    f"0/2 nodes are available: 1 {NO_VICTIMS}, 1 {NOT_HELPFUL}..")
    assert pod["status"]["phase"] == "Pending" and "podIP" not in pod["status"]


def test_mixed_reasons_across_three_nodes() -> None:
    manifests = [namespace("shop"), node("ssd-1", memory="2Gi", labels={"disk": "ssd"}), node("hdd-1"),
                 node("hdd-2"),
                 deployment("web", replicas=1, resources={"requests": {"memory": "3Gi"}},
                            nodeSelector={"disk": "ssd"})]
    state, pod = _pending(manifests)
    assert _message(state, pod) == (
        f"0/4 nodes are available: 1 Insufficient memory, {CONTROL_PLANE}, 2 node(s) didn't match Pod's node "
        f"affinity/selector. preemption: 0/4 nodes are available: 1 {NO_VICTIMS}, 3 {NOT_HELPFUL}..")


def test_untolerated_taint_and_cordon() -> None:
    tainted = node("gpu-1", spec={"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]})
    cordoned = node("old-1", spec={"unschedulable": True})
    manifests = [namespace("shop"), tainted, cordoned, deployment("web", replicas=1)]
    state, pod = _pending(manifests)
    assert _message(state, pod) == (
        f"0/3 nodes are available: 1 node(s) had untolerated taint {{dedicated: gpu}}, {CONTROL_PLANE}, 1 node(s) "
        f"were unschedulable. preemption: 0/3 nodes are available: 3 {NOT_HELPFUL}..")


def test_toleration_lets_the_pod_onto_a_tainted_node() -> None:
    tainted = node("gpu-1", spec={"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]})
    tolerations = [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
    state = derive_state(make_spec([namespace("shop"), tainted, deployment("web", replicas=1,
                                                                           tolerations=tolerations)]))
    [pod] = pods_of(state, "shop", "web-")
    assert pod["spec"]["nodeName"] == "gpu-1"


def test_required_node_affinity_expressions() -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]},
                              {"key": "spot", "operator": "DoesNotExist"}]}]}}}
    nodes = [node("a", labels={"zone": "a"}), node("b-spot", labels={"zone": "b", "spot": "true"}),
             node("b", labels={"zone": "b"})]
    state = derive_state(make_spec([namespace("shop"), *nodes, deployment("web", replicas=2, affinity=affinity)]))
    assert {p["spec"]["nodeName"] for p in pods_of(state, "shop", "web-")} == {"b"}


def test_anti_affinity_leaves_the_extra_replica_pending() -> None:
    affinity = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    manifests = [namespace("shop"), node("n1"), node("n2"), deployment("web", replicas=3, affinity=affinity)]
    state, pod = _pending(manifests)
    placed = [p["spec"].get("nodeName") for p in pods_of(state, "shop", "web-")]
    assert sorted(n for n in placed if n) == ["n1", "n2"]
    assert _message(state, pod) == (f"0/3 nodes are available: {CONTROL_PLANE}, 2 node(s) didn't match pod "
                                    f"anti-affinity rules. preemption: 0/3 nodes are available: 1 {NOT_HELPFUL}, "
                                    f"2 {NO_VICTIMS}..")


def test_missing_claim_fails_in_prefilter() -> None:
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    state, pod = _pending([namespace("shop"), node("n1"), node("n2"), deployment("web", replicas=1, volumes=volumes)])
    assert _message(state, pod) == ('0/3 nodes are available: persistentvolumeclaim "data" not found. '
                                    f"preemption: 0/3 nodes are available: 3 {NO_VICTIMS}..")


def test_unbound_claim_blocks_scheduling() -> None:
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "shop"},
           "spec": {"storageClassName": "missing", "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}}}}
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    state, pod = _pending([namespace("shop"), node("n1"), pvc, deployment("web", replicas=1, volumes=volumes)])
    assert _message(state, pod).startswith("0/2 nodes are available: pod has unbound immediate "
                                           "PersistentVolumeClaims. preemption:")


def test_cordoned_and_not_ready_nodes_get_kubernetes_taints() -> None:
    nodes = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "a"}, "spec": {"unschedulable": True},
         "status": {"allocatable": {"cpu": "2", "memory": "4Gi"}}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "b"},
         "status": {"capacity": {"cpu": "2", "memory": "4Gi"}, "conditions": [{"type": "Ready", "status": "False"}]}},
    ]
    state = derive_state(make_spec(nodes))
    a, b = get(state, "Node", None, "a"), get(state, "Node", None, "b")
    assert [(t["key"], t["effect"]) for t in a["spec"]["taints"]] == [
        ("node.kubernetes.io/unschedulable", "NoSchedule")]
    assert b["status"]["allocatable"]["cpu"] == "2"  # allocatable copied from capacity
    assert [(t["key"], t["effect"]) for t in b["spec"]["taints"]] == [
        ("node.kubernetes.io/not-ready", "NoSchedule"), ("node.kubernetes.io/not-ready", "NoExecute")]
    ready = [c for c in b["status"]["conditions"] if c["type"] == "Ready"][0]
    assert (ready["status"], ready["reason"]) == ("False", "KubeletNotReady")


def test_pvc_with_missing_storage_class_stays_pending() -> None:
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "shop"},
           "spec": {"storageClassName": "fast-ssd", "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "5Gi"}}}}
    state = derive_state(make_spec([namespace("shop"), pvc]))
    claim = get(state, "PersistentVolumeClaim", "shop", "data")
    assert claim["status"] == {"phase": "Pending"}
    [event] = events_for(state, claim, "ProvisioningFailed")
    assert event["message"] == 'storageclass.storage.k8s.io "fast-ssd" not found'
    assert event["source"]["component"] == "persistentvolume-controller" and event["count"] == 201


def test_daemonset_pod_pinned_to_a_full_node() -> None:
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "shop"},
          "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": {
              "metadata": {"labels": {"app": "agent"}},
              "spec": {"containers": [{"name": "agent", "image": "example.io/app:1.0",
                                       "resources": {"requests": {"cpu": "3"}}}]}}}}
    tainted = node("n3", spec={"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]})
    state = derive_state(make_spec([namespace("shop"), node("n1"), node("n2", cpu="2"), tainted, ds]))
    pods = pods_of(state, "shop", "agent-")
    assert len(pods) == 2  # the tainted node is not eligible for the daemon
    placed = {p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
              ["nodeSelectorTerms"][0]["matchFields"][0]["values"][0]: p for p in pods}
    assert placed["n1"]["spec"]["nodeName"] == "n1"
    assert _message(state, placed["n2"]) == (
        "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        f"preemption: 0/4 nodes are available: 1 {NO_VICTIMS}, 3 {NOT_HELPFUL}..")
    status = get(state, "DaemonSet", "shop", "agent")["status"]
    assert (status["desiredNumberScheduled"], status["currentNumberScheduled"]) == (2, 1)


def test_pods_per_node_limit() -> None:
    state, pod = _pending([namespace("shop"), node("tiny", pods="4"), deployment("web", replicas=3)])
    # coredns (2) and kube-proxy (1) already sit on the node: one slot is left for three replicas
    assert _message(state, pod) == (f"0/2 nodes are available: 1 Too many pods, {CONTROL_PLANE}. preemption: 0/2 "
                                    f"nodes are available: 1 {NO_VICTIMS}, 1 {NOT_HELPFUL}..")
    assert sum(1 for p in pods_of(state, "shop", "web-") if p["spec"].get("nodeName")) == 1


def test_failed_scheduling_is_retried_every_five_minutes() -> None:
    state, pod = _pending([namespace("shop"), node("n1", cpu="1"),
                           deployment("web", replicas=1, resources={"requests": {"cpu": "2"}})])
    events = sorted(events_for(state, pod, "FailedScheduling"), key=lambda e: e["count"])
    assert [e["count"] for e in events] == [1, 10]
    clock = state.clock
    assert events[0]["firstTimestamp"] == clock.iso(START)
    assert events[1]["firstTimestamp"] == clock.iso(START + timedelta(minutes=5))
    assert events[1]["lastTimestamp"] == clock.iso(OBSERVE)
    assert events[0]["metadata"]["name"] != events[1]["metadata"]["name"]


def test_node_name_of_a_missing_node_leaves_the_pod_pending_silently() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pinned", "namespace": "shop"},
           "spec": {"nodeName": "ghost", "containers": [{"name": "app", "image": "example.io/app:1.0"}]}}
    state = derive_state(make_spec([namespace("shop"), node("n1"), pod]))
    found = get(state, "Pod", "shop", "pinned")
    assert found["spec"]["nodeName"] == "ghost"
    assert found["status"]["phase"] == "Pending"
    assert events_for(state, found) == []


def test_scheduled_pods_spread_and_get_node_subnet_ips() -> None:
    manifests = [namespace("shop"), node("n1"), node("n2"), node("n3"), deployment("web", replicas=3)]
    state = derive_state(make_spec(manifests))
    pods = pods_of(state, "shop", "web-")
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["n1", "n2", "n3"]
    for pod in pods:
        index = int(pod["spec"]["nodeName"][1]) - 1
        assert pod["status"]["hostIP"] == f"172.18.0.{index + 2}"
        assert pod["status"]["podIP"].startswith(f"10.244.{index}.")
        [event] = events_for(state, pod, "Scheduled")
        assert event["message"] == f"Successfully assigned shop/{pod['metadata']['name']} to {pod['spec']['nodeName']}"
        scheduled = [c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled"][0]
        assert scheduled["status"] == "True"
    assert len({p["status"]["podIP"] for p in pods}) == 3


def test_requests_fill_nodes_in_least_requested_order() -> None:
    big = {"requests": {"cpu": "1500m", "memory": "1Gi"}}
    manifests = [namespace("shop"), node("n1", cpu="2"), node("n2", cpu="2"),
                 deployment("web", replicas=3, resources=big)]
    state, pod = _pending(manifests)
    placed = sorted(p["spec"]["nodeName"] for p in pods_of(state, "shop", "web-") if p["spec"].get("nodeName"))
    assert placed == ["n1", "n2"]
    assert "2 Insufficient cpu" in _message(state, pod)


def test_lost_node_pods_are_evicted_and_replaced() -> None:
    lost = node("n2", conditions=[{"type": "Ready", "status": "Unknown"}])
    spec = make_spec([namespace("shop"), node("n1"), lost, deployment("web", replicas=4)],
                     history={"Node/n2": Change(FAULT, node("n2"))})
    state = derive_state(spec)
    pods = pods_of(state, "shop", "web-")
    terminating = [p for p in pods if p["metadata"].get("deletionTimestamp")]
    evicted_at = FAULT + timedelta(seconds=40 + 300)  # node-monitor grace + default toleration
    assert len(pods) == 6 and len(terminating) == 2
    assert {p["spec"]["nodeName"] for p in terminating} == {"n2"}  # scheduled there before it was lost
    assert terminating[0]["metadata"]["deletionTimestamp"] == state.clock.iso(evicted_at + timedelta(seconds=30))
    conditions = {c["type"]: c for c in terminating[0]["status"]["conditions"]}
    assert conditions["Ready"]["status"] == "False"
    assert conditions["DisruptionTarget"]["reason"] == "DeletionByTaintManager"
    [event] = events_for(state, terminating[0], "TaintManagerEviction")
    assert event["message"] == f"Marking for deletion Pod shop/{terminating[0]['metadata']['name']}"
    replacements = [p for p in pods if p["metadata"]["creationTimestamp"] == state.clock.iso(evicted_at)]
    assert len(replacements) == 2 and {p["spec"]["nodeName"] for p in replacements} == {"n1"}
    taints = get(state, "Node", None, "n2")["spec"]["taints"]
    assert {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
            "timeAdded": state.clock.iso(FAULT + timedelta(seconds=40))} in taints

"""Controllers: materialized objects, ReplicaSets and pods, rollouts, quota admission, StatefulSets, Jobs."""

from __future__ import annotations

import json
import re

from atlas_sre.sim import ids
from atlas_sre.sim.engine import derive
from atlas_sre.sim.images import ExitBehaviour, ImageBehaviour, Usage
from atlas_sre.sim.state import Change
from atlas_sre.sim.workloads.usage import SYSTEM_CPU_MILLI
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

SAFE = "[bcdfghjklmnpqrstvwxz2456789]"


def _quota(hard: dict[str, str], name: str = "compute") -> dict:
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name, "namespace": "shop"},
            "spec": {"hard": hard}}


def test_materialize_gives_a_kind_like_cluster() -> None:
    spec = make_spec([namespace("shop"), deployment("web"), service("web")])
    state = derive_state(spec)
    names = {n["metadata"]["name"]: n for n in of_kind(state, "Namespace")}
    assert set(names) == {"default", "kube-node-lease", "kube-public", "kube-system", "shop"}
    assert names["shop"]["metadata"]["labels"]["kubernetes.io/metadata.name"] == "shop"
    assert names["kube-system"]["status"]["phase"] == "Active"
    node, control = of_kind(state, "Node")  # the default worker, then kind's control-plane node
    assert node["metadata"]["name"] == "worker-1" and control["metadata"]["name"] == "control-plane"
    assert control["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert node["status"]["allocatable"]["cpu"] == "4" and node["status"]["capacity"]["memory"] == "16Gi"
    assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.32.")
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://1.7.")
    assert {"type": "InternalIP", "address": "172.18.0.2"} in node["status"]["addresses"]
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"][0]
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
    kube = get(state, "Service", "default", "kubernetes")
    assert kube["spec"]["clusterIP"] == "10.96.0.1"
    dns = get(state, "Service", "kube-system", "kube-dns")
    assert dns["spec"]["clusterIP"] == "10.96.0.10"
    assert [p["port"] for p in dns["spec"]["ports"]] == [53, 53, 9153]
    coredns = pods_of(state, "kube-system", "coredns-")
    assert len(coredns) == 2
    assert coredns[0]["spec"]["containers"][0]["image"] == "registry.k8s.io/coredns/coredns:v1.11.3"
    assert "registry.k8s.io/coredns/coredns:v1.11.3" in state.extras["registry"]
    assert "registry.k8s.io/coredns/coredns:v1.11.3" not in spec.registry
    web = get(state, "Service", "shop", "web")
    assert web["spec"]["type"] == "ClusterIP" and web["spec"]["sessionAffinity"] == "None"
    assert web["spec"]["clusterIP"] == ids.cluster_ip(spec.seed, "shop", "web")
    assert web["spec"]["ports"][0] == {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}
    assert get(state, "ServiceAccount", "shop", "default")["metadata"]["uid"]
    assert get(state, "ConfigMap", "shop", "kube-root-ca.crt")["data"]["ca.crt"].startswith("-----BEGIN")
    assert get(state, "StorageClass", None, "standard")["provisioner"] == "rancher.io/local-path"


def test_replicaset_and_pod_names_are_stable_and_shaped_like_kubernetes() -> None:
    manifests = [namespace("shop"), deployment("web", replicas=3)]
    first, second = derive_state(make_spec(manifests)), derive_state(make_spec(manifests))
    [rs] = of_kind(first, "ReplicaSet", "shop")
    assert re.fullmatch(f"web-{SAFE}{{10}}", rs["metadata"]["name"])
    assert [p["metadata"]["name"] for p in pods_of(first, "shop", "web")] == [
        p["metadata"]["name"] for p in pods_of(second, "shop", "web")]
    pods = pods_of(first, "shop", "web")
    assert len(pods) == 3
    pth = rs["metadata"]["labels"]["pod-template-hash"]
    for pod in pods:
        assert re.fullmatch(f"{rs['metadata']['name']}-{SAFE}{{5}}", pod["metadata"]["name"])
        assert pod["metadata"]["labels"] == {"app": "web", "pod-template-hash": pth}
        assert pod["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
        assert pod["metadata"]["ownerReferences"][0]["controller"] is True
    assert rs["metadata"]["ownerReferences"][0]["name"] == "web"
    assert rs["metadata"]["annotations"] == {"deployment.kubernetes.io/desired-replicas": "3",
                                             "deployment.kubernetes.io/max-replicas": "4",
                                             "deployment.kubernetes.io/revision": "1"}
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pth}


def test_pod_gets_apiserver_defaults_and_token_volume() -> None:
    manifests = [namespace("shop"), deployment("web", replicas=1, image="example.io/app:latest")]
    state = derive_state(make_spec(manifests, {"example.io/app:latest": server()}))
    [pod] = pods_of(state, "shop", "web")
    spec = pod["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["schedulerName"]) == ("Always", "ClusterFirst",
                                                                               "default-scheduler")
    assert spec["terminationGracePeriodSeconds"] == 30 and spec["serviceAccountName"] == "default"
    container = spec["containers"][0]
    assert container["imagePullPolicy"] == "Always"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    [volume] = spec["volumes"]
    assert re.fullmatch(f"kube-api-access-{SAFE}{{5}}", volume["name"])
    assert container["volumeMounts"] == [{"name": volume["name"], "readOnly": True,
                                          "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
    assert {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
            "tolerationSeconds": 300} in spec["tolerations"]
    assert pod["status"]["qosClass"] == "BestEffort"


def test_controller_events_use_real_wording() -> None:
    state = derive_state(make_spec([namespace("shop"), deployment("web", replicas=2)]))
    deploy = get(state, "Deployment", "shop", "web")
    [rs] = of_kind(state, "ReplicaSet", "shop")
    [scaled] = events_for(state, deploy, "ScalingReplicaSet")
    assert scaled["message"] == f"Scaled up replica set {rs['metadata']['name']} from 0 to 2"
    assert scaled["source"]["component"] == "deployment-controller"
    created = sorted(e["message"] for e in events_for(state, rs, "SuccessfulCreate"))
    assert created == sorted(f"Created pod: {p['metadata']['name']}" for p in pods_of(state, "shop", "web"))
    assert events_for(state, rs, "SuccessfulCreate")[0]["source"]["component"] == "replicaset-controller"


def test_quota_refuses_pods_past_the_limit_with_apiserver_wording() -> None:
    resources = {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}}
    manifests = [namespace("shop"), _quota({"limits.memory": "1Gi", "pods": "10"}, "mem"),
                 deployment("web", replicas=3, resources=resources)]
    state = derive_state(make_spec(manifests))
    [rs] = of_kind(state, "ReplicaSet", "shop")
    assert len(pods_of(state, "shop", "web")) == 2
    failed = events_for(state, rs, "FailedCreate")
    assert failed and all(e["type"] == "Warning" for e in failed)
    pattern = (f'Error creating: pods "{rs["metadata"]["name"]}-{SAFE}{{5}}" is forbidden: exceeded quota: mem, '
               "requested: limits.memory=512Mi, used: limits.memory=1Gi, limited: limits.memory=1Gi")
    singles = [e for e in failed if not e["message"].startswith("(combined")]
    # nine distinct messages within the correlator's 10-minute window, then one more after each
    # back-off gap longer than that window (655s and 1000s): 11 single events in 50 minutes
    assert len(singles) == 11 and all(re.fullmatch(pattern, e["message"]) for e in singles)
    [combined] = [e for e in failed if e["message"].startswith("(combined from similar events): ")]
    assert re.fullmatch(pattern, combined["message"].split(": ", 1)[1])
    assert combined["count"] == 9 and combined["lastTimestamp"] > combined["firstTimestamp"]
    [cond] = rs["status"]["conditions"]
    assert (cond["type"], cond["reason"]) == ("ReplicaFailure", "FailedCreate")
    assert re.fullmatch(pattern.split("Error creating: ", 1)[1], cond["message"])
    deploy = get(state, "Deployment", "shop", "web")
    assert [c["type"] for c in deploy["status"]["conditions"]] == ["Available", "Progressing", "ReplicaFailure"]
    quota = get(state, "ResourceQuota", "shop", "mem")
    assert quota["status"] == {"hard": {"limits.memory": "1Gi", "pods": "10"},
                               "used": {"limits.memory": "1Gi", "pods": "2"}}


def test_quota_requires_explicit_requests_when_it_tracks_them() -> None:
    manifests = [namespace("shop"), _quota({"requests.cpu": "2", "limits.memory": "2Gi"}, "team"),
                 deployment("web", replicas=1)]
    state = derive_state(make_spec(manifests))
    [rs] = of_kind(state, "ReplicaSet", "shop")
    assert pods_of(state, "shop", "web") == []
    messages = {e["message"] for e in events_for(state, rs, "FailedCreate")}
    assert all(m.endswith('is forbidden: failed quota: team: must specify limits.memory for: app; '
                          'requests.cpu for: app') for m in messages)
    deploy = get(state, "Deployment", "shop", "web")
    available = deploy["status"]["conditions"][0]
    assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")
    progressing = deploy["status"]["conditions"][1]
    assert progressing["reason"] == "ProgressDeadlineExceeded"
    assert progressing["message"] == f'ReplicaSet "{rs["metadata"]["name"]}" has timed out progressing.'


def test_limit_range_defaults_satisfy_quota_and_are_annotated() -> None:
    limit_range = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults", "namespace": "shop"},
                   "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"},
                                        "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]}}
    manifests = [namespace("shop"), limit_range, _quota({"requests.cpu": "1", "limits.memory": "1Gi"}),
                 deployment("web", replicas=2)]
    state = derive_state(make_spec(manifests))
    pods = pods_of(state, "shop", "web")
    assert len(pods) == 2
    assert pods[0]["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app")
    assert pods[0]["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "500m", "memory": "256Mi"},
                                                             "requests": {"cpu": "100m", "memory": "128Mi"}}
    assert get(state, "ResourceQuota", "shop", "compute")["status"]["used"] == {"requests.cpu": "200m",
                                                                                 "limits.memory": "512Mi"}


def _rollout(image: str, replicas: int = 4) -> tuple:
    registry = {APP_IMAGE: server(), "example.io/app:2.0": server()}
    spec = make_spec([namespace("shop"), deployment("web", replicas=replicas, image=image)], registry,
                     history={"shop/Deployment/web": Change(FAULT, deployment("web", replicas=replicas))})
    state = derive_state(spec)
    return spec, state


def test_stuck_rollout_keeps_old_pods_by_rolling_update_rules() -> None:
    spec, state = _rollout("example.io/app:9.9-missing", replicas=4)
    rs = {r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r for r in of_kind(state, "ReplicaSet")
          if r["metadata"]["namespace"] == "shop"}
    old, new = rs["1"], rs["2"]
    # maxSurge 25% of 4 rounds up to 1, maxUnavailable rounds down to 1: old 4-1, new 1+1
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (3, 2)
    assert len(pods_of(state, "shop", old["metadata"]["name"])) == 3
    assert len(pods_of(state, "shop", new["metadata"]["name"])) == 2
    deploy = get(state, "Deployment", "shop", "web")
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert deploy["metadata"]["generation"] == 2 and deploy["status"]["observedGeneration"] == 2
    assert deploy["status"]["updatedReplicas"] == 2 and deploy["status"]["availableReplicas"] == 3
    available, progressing = deploy["status"]["conditions"]
    assert (available["status"], available["reason"]) == ("True", "MinimumReplicasAvailable")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert progressing["message"] == f'ReplicaSet "{new["metadata"]["name"]}" has timed out progressing.'
    messages = [e["message"] for e in events_for(state, deploy, "ScalingReplicaSet")]
    assert f"Scaled down replica set {old['metadata']['name']} from 4 to 3" in messages
    assert f"Scaled up replica set {new['metadata']['name']} from 1 to 2" in messages
    new_pod = pods_of(state, "shop", new["metadata"]["name"])[0]
    assert new_pod["metadata"]["creationTimestamp"] >= state.clock.iso(FAULT)


def test_healthy_rollout_completes_and_scales_old_to_zero() -> None:
    _, state = _rollout("example.io/app:2.0", replicas=3)
    rs = {r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r for r in of_kind(state, "ReplicaSet")
          if r["metadata"]["namespace"] == "shop"}
    assert (rs["1"]["spec"]["replicas"], rs["2"]["spec"]["replicas"]) == (0, 3)
    assert len(pods_of(state, "shop", "web-")) == 3
    assert all(p["metadata"]["labels"]["pod-template-hash"] == rs["2"]["metadata"]["labels"]["pod-template-hash"]
               for p in pods_of(state, "shop", "web-"))
    deploy = get(state, "Deployment", "shop", "web")
    progressing = deploy["status"]["conditions"][1]
    assert (progressing["reason"], progressing["message"]) == (
        "NewReplicaSetAvailable", f'ReplicaSet "{rs["2"]["metadata"]["name"]}" has successfully progressed.')
    downs = [e["message"] for e in events_for(state, deploy, "ScalingReplicaSet") if "down" in e["message"]]
    assert downs[-1] == f"Scaled down replica set {rs['1']['metadata']['name']} from 1 to 0"


def test_statefulset_creates_ordinal_pods_and_bound_claims() -> None:
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "shop"},
           "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                    "template": {"metadata": {"labels": {"app": "db"}},
                                 "spec": {"containers": [{"name": "db", "image": APP_IMAGE}]}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}
    state = derive_state(make_spec([namespace("shop"), sts]))
    assert [p["metadata"]["name"] for p in pods_of(state, "shop", "db-")] == ["db-0", "db-1"]
    pod = get(state, "Pod", "shop", "db-1")
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("db-1", "db")
    assert pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "1"
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-1"}} in pod["spec"]["volumes"]
    pvc = get(state, "PersistentVolumeClaim", "shop", "data-db-0")
    assert pvc["status"]["phase"] == "Bound" and pvc["spec"]["storageClassName"] == "standard"
    assert pvc["spec"]["volumeName"] == f"pvc-{pvc['metadata']['uid']}"
    assert get(state, "PersistentVolume", None, pvc["spec"]["volumeName"])["status"]["phase"] == "Bound"
    messages = [e["message"] for e in events_for(state, get(state, "StatefulSet", "shop", "db"))]
    assert messages[:2] == ["create Claim data-db-0 Pod db-0 in StatefulSet db success",
                            "create Pod db-0 in StatefulSet db successful"]
    assert get(state, "StatefulSet", "shop", "db")["status"]["replicas"] == 2


def test_ordered_statefulset_waits_for_a_ready_first_pod() -> None:
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "shop"},
           "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                    "template": {"metadata": {"labels": {"app": "db"}},
                                 "spec": {"containers": [{"name": "db", "image": "example.io/db:missing"}]}}}}
    state = derive_state(make_spec([namespace("shop"), sts]))
    assert [p["metadata"]["name"] for p in pods_of(state, "shop", "db-")] == ["db-0"]


def test_statefulset_update_stops_at_the_first_pod_that_does_not_become_ready() -> None:
    def sts(image: str) -> dict:
        return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "shop"},
                "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                         "template": {"metadata": {"labels": {"app": "db"}},
                                      "spec": {"containers": [{"name": "db", "image": image}]}}}}

    history = {"shop/StatefulSet/db": Change(FAULT, sts(APP_IMAGE))}
    state = derive_state(make_spec([namespace("shop"), sts("example.io/db:missing")], history=history))
    pods = {p["metadata"]["name"]: p for p in pods_of(state, "shop", "db-")}
    revisions = {n: p["metadata"]["labels"]["controller-revision-hash"] for n, p in pods.items()}
    status = get(state, "StatefulSet", "shop", "db")["status"]
    assert revisions == {"db-0": status["currentRevision"], "db-1": status["currentRevision"],
                         "db-2": status["updateRevision"]}
    assert status["currentRevision"] != status["updateRevision"] and status["updatedReplicas"] == 1
    assert pods["db-2"]["metadata"]["creationTimestamp"] == state.clock.iso(FAULT)
    messages = [e["message"] for e in events_for(state, get(state, "StatefulSet", "shop", "db"))]
    assert messages[-2:] == ["delete Pod db-2 in StatefulSet db successful",
                             "create Pod db-2 in StatefulSet db successful"]


def test_job_pods_and_completion() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "shop"},
           "spec": {"template": {"spec": {"restartPolicy": "Never",
                                          "containers": [{"name": "migrate", "image": "example.io/migrate:1"}]}}}}
    registry = {"example.io/migrate:1": ImageBehaviour(exit=ExitBehaviour(code=0, afterSeconds=3))}
    state = derive_state(make_spec([namespace("shop"), job], registry))
    [pod] = pods_of(state, "shop", "migrate-")
    obj = get(state, "Job", "shop", "migrate")
    uid = obj["metadata"]["uid"]
    assert pod["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] == uid
    assert pod["metadata"]["labels"]["job-name"] == "migrate"
    assert obj["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert [e["message"] for e in events_for(state, obj, "SuccessfulCreate")] == [
        f"Created pod: {pod['metadata']['name']}"]
    assert pod["status"]["phase"] == "Succeeded"  # the kubelet stage ran the container to completion
    assert obj["status"]["succeeded"] == 1 and "active" not in obj["status"]
    assert obj["status"]["conditions"][0]["type"] == "Complete"
    assert [e["message"] for e in events_for(state, obj, "Completed")] == ["Job completed"]


def test_hpa_clamps_replicas_and_reports_too_many_replicas() -> None:
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                    "minReplicas": 2, "maxReplicas": 2,
                    "metrics": [{"type": "Resource", "resource": {
                        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}}
    registry = {APP_IMAGE: ImageBehaviour(listen=[{"port": 8080}], health={"path": "/health"},
                                          usage=Usage(cpuMilli=90, memoryMi=64))}
    manifests = [namespace("shop"), deployment("web", replicas=1, resources={"requests": {"cpu": "100m"}}), hpa]
    state = derive_state(make_spec(manifests, registry))
    assert get(state, "Deployment", "shop", "web")["spec"]["replicas"] == 2
    status = get(state, "HorizontalPodAutoscaler", "shop", "web")["status"]
    assert status["currentMetrics"][0]["resource"]["current"]["averageUtilization"] == 90
    assert status["currentReplicas"] == 2 and status["desiredReplicas"] == 2
    limited = [c for c in status["conditions"] if c["type"] == "ScalingLimited"][0]
    assert (limited["status"], limited["reason"], limited["message"]) == (
        "True", "TooManyReplicas", "the desired replica count is more than the maximum replica count")
    on_worker = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in of_kind(state, "Pod")
                 if p["spec"].get("nodeName") == "worker-1"}  # the control-plane node runs its static pods
    pod_cpu = sum(u.cpu_milli for key, usage in state.pod_usage.items() if key in on_worker for u in usage.values())
    assert state.node_usage["worker-1"].cpu_milli == SYSTEM_CPU_MILLI + pod_cpu  # one worker holds every app pod


def test_derive_is_deterministic() -> None:
    manifests = [namespace("shop"), deployment("web", replicas=3), service("web"),
                 _quota({"pods": "2"}, "small")]
    first = json.dumps(derive(make_spec(manifests)).objects, sort_keys=True)
    second = json.dumps(derive(make_spec(manifests)).objects, sort_keys=True)
    assert first == second
    assert START.year == 2026

"""Node, Namespace, Event, config, storage and RBAC printers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from atlas_sre.sim.printers.table import to_table

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=timezone.utc)


def ts(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def obj(kind: str, name: str, rv: str = "100", **body: Any) -> dict:
    return {
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": "shop",
            "creationTimestamp": ts(60 * 50),
            "resourceVersion": rv,
            "labels": {"app": name},
        },
        **body,
    }


def cells(kind: str, o: dict) -> list[Any]:
    return to_table(kind, [o], NOW)["rows"][0]["cells"]


def test_node_status_roles_and_wide() -> None:
    node = obj(
        "Node",
        "cp-1",
        spec={"unschedulable": True},
        status={
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
            "addresses": [
                {"type": "InternalIP", "address": "192.168.1.10"},
                {"type": "Hostname", "address": "cp-1"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.4",
                "osImage": "Ubuntu 22.04.4 LTS",
                "kernelVersion": "6.5.0-1020",
                "containerRuntimeVersion": "containerd://1.7.13",
            },
        },
    )
    node["metadata"]["labels"] = {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "etcd"}
    assert cells("Node", node) == [
        "cp-1",
        "Ready,SchedulingDisabled",
        "control-plane,etcd",
        "2d2h",
        "v1.32.4",
        "192.168.1.10",
        "<none>",
        "Ubuntu 22.04.4 LTS",
        "6.5.0-1020",
        "containerd://1.7.13",
    ]
    worker = obj("Node", "w-1", status={"conditions": [{"type": "Ready", "status": "Unknown"}]})
    assert cells("Node", worker)[1:3] == ["NotReady", "<none>"]
    assert cells("Node", obj("Node", "new"))[1] == "Unknown"
    assert cells("Node", obj("Node", "new"))[7:] == ["<unknown>", "<unknown>", "<unknown>"]


def test_event_cells() -> None:
    ev = obj(
        "Event",
        "web-1.18a2",
        type="Warning",
        reason="BackOff",
        message="Back-off restarting failed container app in pod web-1_shop(u-1)\n",
        count=31,
        firstTimestamp=ts(40),
        lastTimestamp=ts(1.1),
        involvedObject={
            "kind": "Pod",
            "name": "web-1",
            "namespace": "shop",
            "fieldPath": "spec.containers{app}",
        },
        source={"component": "kubelet", "host": "worker-1"},
    )
    cols = to_table("Event", [], NOW)["columnDefinitions"]
    assert [(c["name"], c["priority"]) for c in cols] == [
        ("Last Seen", 0),
        ("Type", 0),
        ("Reason", 0),
        ("Object", 0),
        ("Subobject", 1),
        ("Source", 1),
        ("Message", 0),
        ("First Seen", 1),
        ("Count", 1),
        ("Name", 1),
    ]
    assert cells("Event", ev) == [
        "66s",
        "Warning",
        "BackOff",
        "pod/web-1",
        "spec.containers{app}",
        "kubelet, worker-1",
        "Back-off restarting failed container app in pod web-1_shop(u-1)",
        "40m",
        31,
        "web-1.18a2",
    ]


def test_event_fallbacks() -> None:
    new_style = obj(
        "Event",
        "e",
        type="Normal",
        reason="Scheduled",
        message="ok",
        eventTime="2026-11-26T09:58:00.000000Z",
        reportingComponent="default-scheduler",
        involvedObject={"kind": "Deployment"},
    )
    assert cells("Event", new_style)[:9] == [
        "2m",
        "Normal",
        "Scheduled",
        "deployment",
        "",
        "default-scheduler",
        "ok",
        "2m",
        1,
    ]
    series = dict(new_style, series={"count": 7, "lastObservedTime": "2026-11-26T09:59:30.000000Z"})
    assert cells("Event", series)[0] == "30s" and cells("Event", series)[8] == 7


def test_namespace_configmap_secret_serviceaccount() -> None:
    assert cells("Namespace", obj("Namespace", "shop", status={"phase": "Terminating"}))[1] == "Terminating"
    assert cells("Namespace", obj("Namespace", "shop"))[1:] == ["Active", "2d2h"]
    cm = obj("ConfigMap", "cfg", data={"a": "1", "b": "2"}, binaryData={"c": "AA=="})
    assert cells("ConfigMap", cm) == ["cfg", 3, "2d2h"]
    secret = obj("Secret", "db-creds", type="Opaque", data={"password": "aHVudGVyMg==", "user": "YWRtaW4="})
    table = to_table("Secret", [secret], NOW, include_object="Metadata")
    assert table["rows"][0]["cells"] == ["db-creds", "Opaque", 2, "2d2h"]
    assert "aHVudGVyMg==" not in json.dumps(table)  # never the values, only the count
    sa = obj("ServiceAccount", "default", secrets=[{"name": "default-token"}])
    assert cells("ServiceAccount", sa) == ["default", 1, "2d2h"]


def test_resource_quota() -> None:
    rq = obj(
        "ResourceQuota",
        "compute",
        status={
            "hard": {"pods": "10", "requests.cpu": "1", "limits.memory": "2Gi", "limits.cpu": "2"},
            "used": {"pods": "3", "requests.cpu": "200m", "limits.cpu": "500m"},
        },
    )
    assert [c["name"] for c in to_table("ResourceQuota", [], NOW)["columnDefinitions"]] == [
        "Name",
        "Request",
        "Limit",
        "Age",
    ]
    assert cells("ResourceQuota", rq) == [
        "compute",
        "pods: 3/10, requests.cpu: 200m/1",
        "limits.cpu: 500m/2, limits.memory: 0/2Gi",
        "2d2h",
    ]


def test_pvc_pv_storageclass() -> None:
    cols = [c["name"] for c in to_table("PersistentVolumeClaim", [], NOW)["columnDefinitions"]]
    assert cols == [
        "Name",
        "Status",
        "Volume",
        "Capacity",
        "Access Modes",
        "StorageClass",
        "VolumeAttributesClass",
        "Age",
        "VolumeMode",
    ]
    bound = obj(
        "PersistentVolumeClaim",
        "data",
        spec={"volumeName": "pv-1", "storageClassName": "standard", "volumeMode": "Filesystem"},
        status={
            "phase": "Bound",
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
            "capacity": {"storage": "10Gi"},
        },
    )
    assert cells("PersistentVolumeClaim", bound) == [
        "data",
        "Bound",
        "pv-1",
        "10Gi",
        "RWO,RWX",
        "standard",
        "<unset>",
        "2d2h",
        "Filesystem",
    ]
    pending = obj(
        "PersistentVolumeClaim", "p", spec={"storageClassName": "fast"}, status={"phase": "Pending"}
    )
    assert cells("PersistentVolumeClaim", pending)[1:7] == ["Pending", "", "", "", "fast", "<unset>"]
    pv = obj(
        "PersistentVolume",
        "pv-1",
        spec={
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "shop", "name": "data"},
        },
        status={"phase": "Bound"},
    )
    assert cells("PersistentVolume", pv) == [
        "pv-1",
        "10Gi",
        "RWO",
        "Retain",
        "Bound",
        "shop/data",
        "",
        "<unset>",
        "",
        "2d2h",
        "<unset>",
    ]
    sc = obj(
        "StorageClass",
        "standard",
        provisioner="rancher.io/local-path",
        volumeBindingMode="WaitForFirstConsumer",
    )
    sc["metadata"]["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    assert cells("StorageClass", sc) == [
        "standard (default)",
        "rancher.io/local-path",
        "Delete",
        "WaitForFirstConsumer",
        False,
        "2d2h",
    ]


def test_rbac_priorityclass_and_default_convertor() -> None:
    rb = obj(
        "RoleBinding",
        "read",
        roleRef={"kind": "ClusterRole", "name": "view"},
        subjects=[
            {"kind": "User", "name": "ann"},
            {"kind": "ServiceAccount", "name": "sre", "namespace": "ops"},
            {"kind": "Group", "name": "devs"},
        ],
    )
    assert cells("RoleBinding", rb) == ["read", "ClusterRole/view", "2d2h", "ann", "devs", "ops/sre"]
    pc = obj("PriorityClass", "high", value=1000000)
    assert cells("PriorityClass", pc) == ["high", 1000000, False, "2d2h", "PreemptLowerPriority"]
    role = to_table("Role", [obj("Role", "reader")], NOW)
    assert [(c["name"], c["type"]) for c in role["columnDefinitions"]] == [
        ("Name", "string"),
        ("Created At", "date"),
    ]
    assert role["rows"][0]["cells"] == ["reader", ts(60 * 50)]

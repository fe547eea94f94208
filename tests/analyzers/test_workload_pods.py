"""Pod-state analyzers: crash loops, OOM kills, image pulls, config errors, init containers, probes,
scheduling, capacity, volumes and nodes, each reported once per owning workload."""

from __future__ import annotations

from analyzer_objects import (
    container,
    deployment,
    event,
    node,
    pods,
    running,
    snap,
    waiting,
)

from atlas_sre.analyzers import Level, run_analyzers


def _found(objs: list, name: str) -> list:
    return run_analyzers(snap(objs), names=[name])


def test_crash_loop_reports_last_termination_per_workload() -> None:
    last = {
        "exitCode": 128,
        "reason": "StartError",
        "message": 'exec: "/app/serve": executable file not found in $PATH',
    }
    cs = [waiting("checkout", "CrashLoopBackOff", restarts=7, last=last), running("istio-proxy")]
    objs = deployment("checkout", replicas=2, statuses=[cs, cs], ready=False) + [node()]
    found = _found(objs, "crash-loop")
    assert [(f.code, f.resource.entity, f.level) for f in found] == [
        ("ATL201", "shop/Deployment/checkout", Level.ERROR)
    ]
    assert (
        "crash-looping (CrashLoopBackOff, 7 restarts) in 2 pod(s): last terminated StartError, exit code "
        "128: "
        'exec: "/app/serve": executable file not found in $PATH'
    ) in found[0].message


def test_oom_killed_is_atl202_even_while_running_again() -> None:
    cs = [running("catalog", restarts=3, ready=False, last={"exitCode": 137, "reason": "OOMKilled"})]
    found = _found(deployment("catalog", statuses=[cs], ready=False), "crash-loop")
    assert [f.code for f in found] == ["ATL202"] and "OOMKilled (exit code 137)" in found[0].message
    healthy = [running("catalog", restarts=1, last={"exitCode": 0, "reason": "Completed"})]
    assert _found(deployment("catalog", statuses=[healthy]), "crash-loop") == []


def test_image_pull_and_container_config_errors() -> None:
    objs = deployment(
        "web", statuses=[[waiting("web", "ImagePullBackOff", 'Back-off pulling image "x:9"')]], ready=False
    )
    objs.append(event(pods(objs)[0], "Failed", 'Failed to pull image "x:9": not found', count=4))
    found = _found(objs, "image-pull")
    assert [f.code for f in found] == ["ATL203"] and found[0].evidence == (
        'Failed: Failed to pull image "x:9": not found (x4)',
    )
    cfg = deployment(
        "api",
        statuses=[[waiting("api", "CreateContainerConfigError", 'configmap "api-flags" not found')]],
        ready=False,
    )
    found = _found(cfg, "container-config")
    assert [f.code for f in found] == ["ATL204"] and found[0].related == ("shop/ConfigMap/api-flags",)


def test_init_container_failing_and_hanging() -> None:
    fail = deployment("api", ready=False, pod_phase="Pending")
    pods(fail)[0]["status"]["initContainerStatuses"] = [
        waiting("migrate", "CrashLoopBackOff", restarts=4, last={"exitCode": 1, "reason": "Error"})
    ]
    assert [f.code for f in _found(fail, "init-containers")] == ["ATL205"]
    hang = deployment("api", ready=False, pod_phase="Pending")
    pods(hang)[0]["status"]["initContainerStatuses"] = [
        {
            "name": "wait-db",
            "ready": False,
            "restartCount": 0,
            "state": {"running": {"startedAt": "2026-11-26T09:20:00Z"}},
        }
    ]
    hang.append(
        event(pods(hang)[0], "Started", "Started container wait-db", type_="Normal")
    )  # observed 10:00
    found = _found(hang, "init-containers")
    assert [f.code for f in found] == ["ATL206"] and "running for 40m" in found[0].message
    pods(hang)[0]["spec"]["initContainers"] = [{"name": "wait-db", "restartPolicy": "Always"}]
    assert _found(hang, "init-containers") == []  # a native sidecar runs forever by design


def test_probe_failures_need_repetition_or_an_unready_pod() -> None:
    objs = deployment("ad", ready=False)
    objs.append(
        event(
            pods(objs)[0],
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 404",
            count=30,
        )
    )
    found = _found(objs, "probes")
    assert [(f.code, f.level) for f in found] == [("ATL207", Level.ERROR)]
    assert found[0].message.endswith("Readiness probe failed: HTTP probe failed with statuscode: 404")
    once = deployment("ad")
    once.append(event(pods(once)[0], "Unhealthy", "Readiness probe failed: connection refused", count=1))
    assert _found(once, "probes") == []
    live = deployment("ad")
    live.append(
        event(
            pods(live)[0],
            "Unhealthy",
            "Liveness probe failed: HTTP probe failed with statuscode: 500",
            count=6,
        )
    )
    assert [f.code for f in _found(live, "probes")] == ["ATL208"]


def test_pending_pods_carry_the_scheduler_reason_and_blockers() -> None:
    objs = deployment(
        "checkout",
        pod_phase="Pending",
        ready=False,
        statuses=[[]],
        pod_spec_extra={"nodeSelector": {"disk": "ssd"}},
    ) + [node(cordoned=True)]
    msg = (
        "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: "
        "1 Preemption is not helpful for scheduling."
    )
    objs.append(event(pods(objs)[0], "FailedScheduling", msg, count=12))
    found = _found(objs, "pending")
    assert [(f.code, f.resource.entity) for f in found] == [("ATL210", "shop/Deployment/checkout")]
    assert found[0].message == f"1 pod(s) cannot be scheduled: {msg}"
    assert found[0].related == ("Node/worker-1",) and "nodeSelector disk=ssd" in found[0].evidence
    assert [(f.code, f.level) for f in _found(objs, "nodes")] == [("ATL214", Level.ERROR)]


def test_missing_claim_is_reported_on_the_workload_and_pending_claim_on_itself() -> None:
    objs = deployment(
        "db",
        pod_spec_extra={"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "db-data"}}]},
    )
    found = _found(objs, "volumes")
    assert [(f.code, f.resource.entity) for f in found] == [("ATL211", "shop/Deployment/db")]
    assert found[0].related == ("shop/PersistentVolumeClaim/db-data",)
    objs.append(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "db-data", "namespace": "shop"},
            "status": {"phase": "Pending"},
        }
    )
    assert [f.code for f in _found(objs, "volumes")] == ["ATL212"]


def test_not_ready_node_is_atl213() -> None:
    assert [f.line for f in _found([node(ready=False)], "nodes")] == [
        "Error [ATL213] (Node worker-1) Node worker-1 is NotReady (NodeStatusUnknown): Kubelet stopped "
        "posting "
        "node status."
    ]
    assert _found([node()], "nodes") == []


def test_capacity_names_the_higher_priority_workload_holding_the_cpu() -> None:
    batch = deployment(
        "invoice-batch",
        ns="batch",
        replicas=2,
        sidecar=False,
        containers=[container("invoice", resources={"requests": {"cpu": "1500m"}})],
    )
    for p in pods(batch):
        p["spec"]["priority"] = 1000000
    starved = deployment("cart", pod_phase="Pending", ready=False, statuses=[[]])
    starved.append(
        event(pods(starved)[0], "FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu.")
    )
    found = _found(batch + starved + [node(cpu="4")], "capacity")
    assert [(f.code, f.resource.entity) for f in found] == [("ATL215", "batch/Deployment/invoice-batch")]
    assert "(priority 1000000) holds 75% of the cluster's allocatable cpu" in found[0].message
    for p in pods(batch):
        p["spec"]["priority"] = 0
    assert _found(batch + starved + [node(cpu="4")], "capacity") == []


def test_a_crash_long_past_is_a_warning_with_its_age_and_a_recent_one_an_error() -> None:
    """An OOMKill hours ago on a container running ready since is history (issue 14): never an Error."""
    from datetime import timedelta

    from analyzer_objects import T0

    from atlas_sre.analyzers.snapshot import parse_time

    def finished(before: timedelta) -> str:
        start = parse_time(T0)
        assert start is not None
        return (start - before).strftime("%Y-%m-%dT%H:%M:%SZ")

    old = [running("catalog", restarts=1, last={"exitCode": 137, "reason": "OOMKilled",
                                                "finishedAt": finished(timedelta(hours=3, minutes=50))})]
    found = _found(deployment("catalog", statuses=[old]), "crash-loop")
    assert [(f.code, f.level) for f in found] == [("ATL202", Level.WARNING)]
    assert "last terminated OOMKilled (exit code 137) 3h50m ago and has run ready since" in found[0].message
    recent = [running("catalog", restarts=1, last={"exitCode": 137, "reason": "OOMKilled",
                                                   "finishedAt": finished(timedelta(minutes=4))})]
    assert [(f.code, f.level) for f in _found(deployment("catalog", statuses=[recent]), "crash-loop")] == [
        ("ATL202", Level.ERROR)]
    unready = [running("catalog", restarts=1, ready=False, last={"exitCode": 137, "reason": "OOMKilled",
                                                                 "finishedAt": finished(timedelta(hours=3))})]
    assert [f.level for f in _found(deployment("catalog", statuses=[unready], ready=False), "crash-loop")] == [
        Level.ERROR]

"""The Pod printer: every status branch of kube-apiserver 1.32's printPod, READY and RESTARTS."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from atlas_sre.sim.printers.pod import pod_status
from atlas_sre.sim.printers.table import to_table

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=timezone.utc)


def ts(minutes_ago: float) -> str:
    """An RFC 3339 timestamp `minutes_ago` before NOW."""
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def running(name: str = "app", restarts: int = 0, ready: bool = True, **extra: Any) -> dict:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "started": True,
        "state": {"running": {"startedAt": ts(30)}},
        **extra,
    }


def waiting(reason: str, name: str = "app", restarts: int = 0, **extra: Any) -> dict:
    return {
        "name": name,
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason}},
        **extra,
    }


def terminated(
    reason: str | None, name: str = "app", exit_code: int = 1, signal: int = 0, **extra: Any
) -> dict:
    term: dict[str, Any] = {"exitCode": exit_code, "finishedAt": ts(1)}
    if reason:
        term["reason"] = reason
    if signal:
        term["signal"] = signal
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": term}, **extra}


def last_terminated(minutes_ago: float, reason: str = "Error") -> dict:
    return {"terminated": {"exitCode": 1, "reason": reason, "finishedAt": ts(minutes_ago)}}


def pod(
    statuses: list[dict],
    *,
    phase: str = "Running",
    containers: int | None = None,
    init: list[dict] | None = None,
    init_statuses: list[dict] | None = None,
    ready: bool | None = None,
    initialized: bool | None = None,
    **status_extra: Any,
) -> dict:
    n = containers if containers is not None else max(len(statuses), 1)
    conditions = []
    if initialized is not None:
        conditions.append({"type": "Initialized", "status": str(initialized)})
    if ready is not None:
        conditions.append({"type": "Ready", "status": str(ready)})
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": conditions,
        "containerStatuses": statuses,
        **status_extra,
    }
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    spec: dict[str, Any] = {
        "containers": [{"name": f"c{i}", "image": "img"} for i in range(n)],
        "nodeName": "worker-1",
    }
    if init is not None:
        spec["initContainers"] = init
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-1",
            "namespace": "default",
            "creationTimestamp": ts(45),
            "resourceVersion": "4242",
            "uid": "u-1",
        },
        "spec": spec,
        "status": status,
    }


def test_running_two_of_two() -> None:
    p = pod([running("a"), running("b")], ready=True)
    assert pod_status(p, NOW) == ("2/2", "Running", "0")


def test_crashloop_with_last_restart_age() -> None:
    cs = waiting("CrashLoopBackOff", restarts=5, lastState=last_terminated(2))
    assert pod_status(pod([cs], ready=False), NOW) == ("0/1", "CrashLoopBackOff", "5 (2m ago)")


def test_restarts_sum_over_containers_and_take_newest_finish() -> None:
    a = running("a", restarts=2, lastState=last_terminated(40))
    b = running("b", restarts=3, lastState=last_terminated(7))
    assert pod_status(pod([a, b], ready=True), NOW) == ("2/2", "Running", "5 (7m ago)")


def test_restart_count_without_last_state_is_plain_number() -> None:
    assert pod_status(pod([running(restarts=3)], ready=True), NOW)[2] == "3"


@pytest.mark.parametrize(
    "reason",
    [
        "ImagePullBackOff",
        "ErrImagePull",
        "ContainerCreating",
        "CreateContainerConfigError",
        "PodInitializing",
    ],
)
def test_waiting_reason_is_the_status(reason: str) -> None:
    assert pod_status(pod([waiting(reason)], phase="Pending"), NOW) == ("0/1", reason, "0")


def test_pending_unscheduled_pod_without_statuses() -> None:
    p = pod([], phase="Pending", containers=1)
    p["status"]["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]
    assert pod_status(p, NOW) == ("0/1", "Pending", "0")


def test_scheduling_gated() -> None:
    p = pod([], phase="Pending", containers=1)
    p["status"]["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]
    assert pod_status(p, NOW)[1] == "SchedulingGated"


def test_init_progress_while_init_container_runs() -> None:
    init_cs = {"name": "migrate", "ready": False, "restartCount": 0, "state": {"running": {}}}
    p = pod(
        [waiting("PodInitializing")],
        phase="Pending",
        init=[{"name": "migrate"}],
        init_statuses=[init_cs],
        initialized=False,
    )
    assert pod_status(p, NOW) == ("0/1", "Init:0/1", "0")


def test_init_second_of_two_counts_first_as_done() -> None:
    done = {"name": "a", "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    second = {"name": "b", "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}
    p = pod(
        [waiting("PodInitializing")],
        phase="Pending",
        init=[{"name": "a"}, {"name": "b"}],
        init_statuses=[done, second],
        initialized=False,
    )
    assert pod_status(p, NOW)[1] == "Init:1/2"


def test_init_crashloop_counts_init_restarts() -> None:
    init_cs = {
        "name": "migrate",
        "ready": False,
        "restartCount": 4,
        "lastState": last_terminated(3),
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
    }
    p = pod(
        [waiting("PodInitializing")],
        phase="Pending",
        init=[{"name": "migrate"}],
        init_statuses=[init_cs],
        initialized=False,
    )
    assert pod_status(p, NOW) == ("0/1", "Init:CrashLoopBackOff", "4 (3m ago)")


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ({"exitCode": 1, "reason": "Error"}, "Init:Error"),
        ({"exitCode": 2}, "Init:ExitCode:2"),
        ({"exitCode": 137, "signal": 9}, "Init:Signal:9"),
    ],
)
def test_failed_init_container(term: dict, expected: str) -> None:
    init_cs = {"name": "migrate", "restartCount": 0, "state": {"terminated": term}}
    p = pod(
        [waiting("PodInitializing")],
        phase="Pending",
        init=[{"name": "migrate"}],
        init_statuses=[init_cs],
        initialized=False,
    )
    assert pod_status(p, NOW)[1] == expected


def test_completed_job_pod_has_completed_row_condition() -> None:
    p = pod([terminated("Completed", exit_code=0)], phase="Succeeded", ready=False)
    table = to_table("Pod", [p], NOW)
    assert table["rows"][0]["cells"][:4] == ["web-1", "0/1", "Completed", "0"]
    assert table["rows"][0]["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]


def test_oomkilled_and_reasonless_terminations() -> None:
    assert pod_status(pod([terminated("OOMKilled", exit_code=137)]), NOW)[1] == "OOMKilled"
    assert pod_status(pod([terminated(None, exit_code=3)]), NOW)[1] == "ExitCode:3"
    assert pod_status(pod([terminated(None, exit_code=143, signal=15)]), NOW)[1] == "Signal:15"


def test_last_container_with_a_reason_wins() -> None:
    p = pod([waiting("ImagePullBackOff", name="a"), waiting("CrashLoopBackOff", name="b")], phase="Pending")
    assert pod_status(p, NOW)[1] == "ImagePullBackOff"  # containers are walked last-to-first


def test_completed_sidecar_next_to_running_container() -> None:
    statuses = [running("a"), terminated("Completed", name="b", exit_code=0)]
    assert pod_status(pod(statuses, ready=True), NOW) == ("1/2", "Running", "0")
    assert pod_status(pod(statuses, ready=False), NOW) == ("1/2", "NotReady", "0")


def test_running_but_not_ready_container() -> None:
    assert pod_status(pod([running(ready=False)], ready=False), NOW) == ("0/1", "Running", "0")


def test_terminating_and_node_lost() -> None:
    p = pod([running()], ready=True)
    p["metadata"]["deletionTimestamp"] = ts(0.5)
    assert pod_status(p, NOW)[1] == "Terminating"
    p["status"]["reason"] = "NodeLost"
    assert pod_status(p, NOW)[1] == "Unknown"
    done = pod([terminated("Completed", exit_code=0)], phase="Succeeded")
    done["metadata"]["deletionTimestamp"] = ts(0.5)
    assert pod_status(done, NOW)[1] == "Completed"  # terminal pods keep their status


def test_evicted() -> None:
    assert pod_status(pod([], phase="Failed", containers=1, reason="Evicted"), NOW) == ("0/1", "Evicted", "0")
    # with a terminated container status the container's reason wins, as on real 1.32 clusters
    unknown = pod([terminated("ContainerStatusUnknown", exit_code=137)], phase="Failed", reason="Evicted")
    assert pod_status(unknown, NOW)[1] == "ContainerStatusUnknown"


def test_sidecar_counts_in_ready_and_restarts() -> None:
    init = [{"name": "proxy", "restartPolicy": "Always"}]
    proxy = {
        "name": "proxy",
        "ready": True,
        "started": True,
        "restartCount": 2,
        "lastState": last_terminated(12),
        "state": {"running": {}},
    }
    p = pod([running("app")], init=init, init_statuses=[proxy], ready=True, initialized=True)
    assert pod_status(p, NOW) == ("2/2", "Running", "2 (12m ago)")


def test_wide_cells() -> None:
    p = pod([running()], ready=True, podIP="10.244.1.5", podIPs=[{"ip": "10.244.1.5"}])
    p["spec"]["readinessGates"] = [{"conditionType": "example.com/a"}, {"conditionType": "example.com/b"}]
    p["status"]["conditions"].append({"type": "example.com/a", "status": "True"})
    cells = to_table("Pod", [p], NOW)["rows"][0]["cells"]
    assert cells == ["web-1", "1/1", "Running", "0", "45m", "10.244.1.5", "worker-1", "<none>", "1/2"]
    bare = pod([], phase="Pending", containers=1)
    del bare["spec"]["nodeName"]
    assert to_table("Pod", [bare], NOW)["rows"][0]["cells"][5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_pod_columns_and_priorities() -> None:
    cols = to_table("Pod", [], NOW)["columnDefinitions"]
    assert [(c["name"], c["type"], c["priority"]) for c in cols] == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Status", "string", 0),
        ("Restarts", "string", 0),
        ("Age", "string", 0),
        ("IP", "string", 1),
        ("Node", "string", 1),
        ("Nominated Node", "string", 1),
        ("Readiness Gates", "string", 1),
    ]
    assert cols[0]["format"] == "name" and cols[1]["format"] == ""
    assert all(c["description"] for c in cols)

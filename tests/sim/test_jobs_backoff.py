"""Jobs end as the Job controller ends them: back-off between failed pods, BackoffLimitExceeded,
the OnFailure restart budget, activeDeadlineSeconds; served to the real kubectl."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubectl_env import kubectl_on_scenario

from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.images import ExitBehaviour, ImageBehaviour
from conftest import derive_state, events_for, get, make_spec, namespace, pods_of

IMAGE = "example.io/batch:1"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def _job(policy: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "batch", "namespace": "shop"},
            "spec": {**spec, "template": {"spec": {"restartPolicy": policy,
                                                   "containers": [{"name": "batch", "image": IMAGE}]}}}}


def _registry(code: int, seconds: float = 3, **extra: Any) -> dict[str, ImageBehaviour]:
    return {IMAGE: ImageBehaviour(exit=ExitBehaviour(code=code, afterSeconds=seconds, log="boom"), **extra)}


def _conditions(job: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["type"], c["status"], c.get("reason", "")) for c in job["status"].get("conditions") or []]


def test_never_policy_replaces_failed_pods_with_backoff_then_fails() -> None:
    state = derive_state(make_spec([namespace("shop"), _job("Never", backoffLimit=3)], _registry(1)))
    job = get(state, "Job", "shop", "batch")
    pods = sorted(pods_of(state, "shop", "batch-"), key=lambda p: p["metadata"]["creationTimestamp"])
    assert len(pods) == 4  # backoffLimit 3: the fourth failure fails the Job
    assert {p["status"]["phase"] for p in pods} == {"Failed"}
    created = [parse_time(p["metadata"]["creationTimestamp"]) for p in pods]
    gaps = [(b - a).total_seconds() for a, b in zip(created, created[1:], strict=False)]
    # each replacement waits 10s, 20s, 40s after the previous pod's failure (which took a few seconds)
    assert [round(g - d) >= 0 and g - d < 15 for g, d in zip(gaps, (10, 20, 40), strict=True)] == [True] * 3
    assert job["status"]["failed"] == 4 and "active" not in job["status"]
    assert _conditions(job) == [("FailureTarget", "True", "BackoffLimitExceeded"),
                                ("Failed", "True", "BackoffLimitExceeded")]
    [warning] = events_for(state, job, "BackoffLimitExceeded")
    assert (warning["type"], warning["message"]) == ("Warning", "Job has reached the specified backoff limit")
    assert len(events_for(state, job, "SuccessfulCreate")) == 4


def test_on_failure_policy_counts_restarts_and_deletes_the_pod() -> None:
    state = derive_state(make_spec([namespace("shop"), _job("OnFailure", backoffLimit=4)], _registry(2)))
    job = get(state, "Job", "shop", "batch")
    assert pods_of(state, "shop", "batch-") == []  # the controller deleted the crash-looping pod
    assert job["status"]["failed"] == 1
    assert _conditions(job)[-1] == ("Failed", "True", "BackoffLimitExceeded")
    [deleted] = events_for(state, job, "SuccessfulDelete")
    assert deleted["message"].startswith("Deleted pod: batch-")
    # the pod's own kubelet events outlive it, the last one stopping the container
    pod_events = [e for e in state.objects if e.get("kind") == "Event"
                  and e["involvedObject"].get("kind") == "Pod" and e["involvedObject"]["name"].startswith("batch-")]
    assert {"BackOff", "Killing"} <= {e["reason"] for e in pod_events}


def test_on_failure_job_below_its_limit_keeps_running() -> None:
    state = derive_state(make_spec([namespace("shop"), _job("OnFailure", backoffLimit=100)], _registry(2)))
    job = get(state, "Job", "shop", "batch")
    [pod] = pods_of(state, "shop", "batch-")
    assert pod["status"]["containerStatuses"][0]["restartCount"] > 4
    assert job["status"]["active"] == 1 and "conditions" not in job["status"]


def test_active_deadline_fails_a_job_that_never_ends() -> None:
    registry = {IMAGE: ImageBehaviour(hang=True)}
    state = derive_state(make_spec([namespace("shop"), _job("Never", activeDeadlineSeconds=600)], registry))
    job = get(state, "Job", "shop", "batch")
    assert pods_of(state, "shop", "batch-") == []
    assert _conditions(job) == [("FailureTarget", "True", "DeadlineExceeded"), ("Failed", "True", "DeadlineExceeded")]
    start = parse_time(job["status"]["startTime"])
    assert parse_time(job["status"]["conditions"][0]["lastTransitionTime"]) - start == parse_time(
        "2026-01-01T00:10:00Z") - parse_time("2026-01-01T00:00:00Z")
    [warning] = events_for(state, job, "DeadlineExceeded")
    assert warning["message"] == "Job was active longer than specified deadline"


def test_a_job_that_succeeds_is_complete() -> None:
    state = derive_state(make_spec([namespace("shop"), _job("Never")], _registry(0)))
    job = get(state, "Job", "shop", "batch")
    assert _conditions(job) == [("Complete", "True", "")] and job["status"]["succeeded"] == 1


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with kubectl_on_scenario("job-backoff-limit-exceeded", tmp_path_factory.mktemp("jobs")) as kubectl:
        yield kubectl


@pytest.mark.kubectl
def test_kubectl_shows_the_failed_job_its_pods_logs_and_events(served: Kubectl) -> None:
    jobs = served("get", "jobs", "-n", "shop")
    assert jobs.returncode == 0, jobs.stderr
    assert jobs.stdout.splitlines()[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert jobs.stdout.splitlines()[1].split()[:3] == ["orders-migrate", "Failed", "0/1"]
    pods = [line.split() for line in served("get", "pods", "-n", "shop", "--no-headers").stdout.splitlines()
            if line.startswith("orders-migrate-")]
    assert len(pods) == 5 and {p[2] for p in pods} == {"Error"}  # backoffLimit 4: five failed pods
    describe = served("describe", "job", "-n", "shop", "orders-migrate").stdout
    assert "Pods Statuses:    0 Active (0 Ready) / 0 Succeeded / 5 Failed" in describe
    assert "BackoffLimitExceeded" in describe and "Job has reached the specified backoff limit" in describe
    warnings = served("get", "events", "-n", "shop", "--field-selector", "type=Warning").stdout
    assert "job/orders-migrate" in warnings and "BackoffLimitExceeded" in warnings
    logs = served("logs", "-n", "shop", pods[0][0]).stdout.splitlines()
    assert logs[-1].endswith("dial error (dial tcp 10.96.112.40:5433: connect: connection refused)")
    # the template's scenario-time stamp is served on the served timeline (the line's own time)
    stamped = served("logs", "-n", "shop", pods[0][0], "--timestamps").stdout.splitlines()[-1]
    assert stamped.split()[1][:19] == stamped.split()[0][:19]
    assert stamped.split()[1].startswith("2026-01-01T11:")

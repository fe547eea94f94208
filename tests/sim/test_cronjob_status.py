"""CronJobs run Jobs on their schedule and report them: active refs, last schedule and success,
concurrency policies, history limits; served to the real kubectl."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubectl_env import kubectl_on_scenario

from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.images import ExitBehaviour, ImageBehaviour
from atlas_sre.sim.workloads.cron import CronError, Schedule
from conftest import derive_state, events_for, get, make_spec, namespace, of_kind

OK, HANG = "example.io/ok:1", "example.io/hang:1"
REGISTRY = {OK: ImageBehaviour(exit=ExitBehaviour(code=0, afterSeconds=30)), HANG: ImageBehaviour(hang=True)}
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def _cronjob(name: str, image: str, schedule: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": "shop"},
            "spec": {"schedule": schedule, **spec, "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "task", "image": image}]}}}}}}


def _name(cronjob: str, hhmm: str) -> str:
    """`<cronjob>-<scheduled minute since the epoch>`, as the controller names its Jobs."""
    return f"{cronjob}-{int(parse_time(f'2026-11-26T{hhmm}:00Z').timestamp()) // 60}"


def _owned(state: Any, cj: dict[str, Any]) -> list[dict[str, Any]]:
    uid = cj["metadata"]["uid"]
    return sorted((j for j in of_kind(state, "Job", "shop")
                   if any(r.get("uid") == uid for r in j["metadata"].get("ownerReferences") or [])),
                  key=lambda j: j["metadata"]["name"])


def test_schedule_parsing() -> None:
    after, until = parse_time("2026-11-26T09:00:00Z"), parse_time("2026-11-26T11:00:00Z")
    assert [t.strftime("%H:%M") for t in Schedule("10,40 * * * *").times(after, until)] == [
        "09:10", "09:40", "10:10", "10:40"]
    assert [t.strftime("%H:%M") for t in Schedule("@hourly").times(after, until)] == ["10:00", "11:00"]
    assert [t.strftime("%H:%M") for t in Schedule("*/45 9-10 * * *").times(after, until)] == ["09:45", "10:00",
                                                                                              "10:45"]
    # 2026-11-26 is a Thursday; in Europe/Paris (UTC+1) 11:00 local is 10:00Z
    assert [t.strftime("%H:%M") for t in Schedule("0 11 * * thu", "Europe/Paris").times(after, until)] == ["10:00"]
    assert Schedule("0 11 * * fri").times(after, until) == []
    with pytest.raises(CronError):
        Schedule("61 * * * *")
    with pytest.raises(CronError):
        Schedule("* * *")


def test_running_job_is_active_and_prunes_successful_history() -> None:
    state = derive_state(make_spec([namespace("shop"), _cronjob("report", OK, "*/10 * * * *")], REGISTRY))
    cj = get(state, "CronJob", "shop", "report")
    jobs = _owned(state, cj)
    # 09:20 ... 10:00 ran; successfulJobsHistoryLimit 3 keeps the three newest finished and the running one
    assert [j["metadata"]["name"] for j in jobs] == [_name("report", t) for t in ("09:30", "09:40", "09:50", "10:00")]
    newest = jobs[-1]
    assert newest["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
        cj["status"]["lastScheduleTime"]
    assert [a["name"] for a in cj["status"]["active"]] == [newest["metadata"]["name"]]
    assert cj["status"]["active"][0]["uid"] == newest["metadata"]["uid"]
    assert cj["status"]["lastSuccessfulTime"] == jobs[-2]["status"]["completionTime"]
    deleted = [e["message"] for e in events_for(state, cj, "SuccessfulDelete")]
    assert deleted == [f"Deleted job {_name('report', '09:20')}"]
    assert f"Saw completed job: {_name('report', '09:50')}, status: Complete" in [
        e["message"] for e in events_for(state, cj, "SawCompletedJob")]


def test_forbid_skips_runs_while_one_is_active() -> None:
    spec = make_spec([namespace("shop"), _cronjob("sync", HANG, "*/15 * * * *", concurrencyPolicy="Forbid")],
                     REGISTRY)
    state = derive_state(spec)
    cj = get(state, "CronJob", "shop", "sync")
    [job] = _owned(state, cj)
    assert [a["name"] for a in cj["status"]["active"]] == [job["metadata"]["name"]]
    assert cj["status"]["lastScheduleTime"] == state.clock.iso(parse_time("2026-11-26T09:15:00Z"))
    [skipped] = events_for(state, cj, "JobAlreadyActive")
    assert skipped["count"] == 3  # 09:30, 09:45, 10:00
    assert skipped["message"] == "Not starting job because prior execution is running and concurrency policy is Forbid"


def test_replace_deletes_the_running_job() -> None:
    spec = make_spec([namespace("shop"), _cronjob("sync", HANG, "*/20 * * * *", concurrencyPolicy="Replace")],
                     REGISTRY)
    state = derive_state(spec)
    cj = get(state, "CronJob", "shop", "sync")
    [job] = _owned(state, cj)
    assert job["metadata"]["name"] == _name("sync", "10:00")
    assert len(events_for(state, cj, "SuccessfulDelete")) == 2


def test_a_declared_job_owned_by_name_counts_as_active() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": "nightly-manual", "namespace": "shop",
                        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly"}]},
           "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "t", "image": HANG}]}}}}
    state = derive_state(make_spec([namespace("shop"), _cronjob("nightly", OK, "0 3 * * *"), job], REGISTRY))
    cj = get(state, "CronJob", "shop", "nightly")
    assert [a["name"] for a in cj["status"]["active"]] == ["nightly-manual"]
    assert cj["status"]["lastScheduleTime"] == get(state, "Job", "shop", "nightly-manual")["metadata"][
        "creationTimestamp"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with kubectl_on_scenario("cronjob-failing-env", tmp_path_factory.mktemp("cron")) as kubectl:
        yield kubectl


@pytest.mark.kubectl
def test_kubectl_shows_the_cronjob_its_active_job_and_the_crash(served: Kubectl) -> None:
    table = served("get", "cronjobs", "-n", "shop").stdout.splitlines()
    assert table[0].split() == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"]
    assert table[1].split() == ["price-sync", "10,40", "*", "*", "*", "*", "<none>", "False", "1", "20m", "120m"]
    jobs = {line.split()[0]: line.split()[1] for line in served("get", "jobs", "-n", "shop", "--no-headers")
            .stdout.splitlines()}
    assert jobs == {"price-sync-29928070": "Failed", "price-sync-29928100": "Running"}
    describe = served("describe", "cronjob", "-n", "shop", "price-sync").stdout
    assert "Last Schedule Time:  Thu, 01 Jan 2026 11:40:00 +0000" in describe
    assert "Active Jobs:         price-sync-29928100" in describe
    pods = [line.split() for line in served("get", "pods", "-n", "shop", "--no-headers").stdout.splitlines()
            if line.startswith("price-sync-")]
    assert len(pods) == 1 and pods[0][0].startswith("price-sync-29928100-") and pods[0][2] == "CrashLoopBackOff"
    previous = served("logs", "-n", "shop", pods[0][0], "--previous").stdout
    assert "PRICE_FEED_TOKEN is empty" in previous
    events = served("events", "-n", "shop", "--for", "cronjob/price-sync").stdout
    assert "Saw completed job: price-sync-29928070, status: Failed" in events
    warnings = served("events", "-n", "shop", "--types=Warning").stdout
    assert "Job/price-sync-29928070" in warnings and "BackoffLimitExceeded" in warnings


def test_a_declared_job_with_the_run_name_is_not_created_twice() -> None:
    """The API server refuses a second Job of the same name (AlreadyExists); the controller lets it be."""
    taken = _name("report", "10:00")
    declared = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": taken, "namespace": "shop"},
                "spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                                               "containers": [{"name": "task", "image": HANG}]}}}}
    state = derive_state(make_spec([namespace("shop"), _cronjob("report", OK, "*/10 * * * *"), declared], REGISTRY))
    assert [j["metadata"]["name"] for j in of_kind(state, "Job", "shop")].count(taken) == 1
    cj = get(state, "CronJob", "shop", "report")
    created = [e["message"] for e in events_for(state, cj, "SuccessfulCreate")]
    assert f"Created job {taken}" not in created and f"Created job {_name('report', '09:50')}" in created
    pods = [p for p in of_kind(state, "Pod", "shop") if p["metadata"]["name"].startswith(f"{taken}-")]
    assert len(pods) == 1  # the declared Job's pod only

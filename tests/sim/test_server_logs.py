"""pods/log: container choice, the kubelet's refusals word for word, and the log options."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from kubectl_env import NS, sample_state

from atlas_sre.sim.api.logs import index_logs, render_log, rfc3339_nano
from atlas_sre.sim.state import ClusterState

STATE = sample_state()
RUNNING, CRASH, PULL = "web-5d9c7b8f6c-abcde", "web-5d9c7b8f6c-crash", "web-5d9c7b8f6c-pullx"


def pod(name: str, state: ClusterState = STATE) -> dict[str, Any]:
    found = state.get("Pod", NS, name)
    assert found is not None
    return found


def log(name: str, state: ClusterState = STATE, p: dict | None = None, **query: str) -> tuple[int, str]:
    resp = render_log(state.clock, index_logs(state.logs), NS, p or pod(name, state), query)
    text = resp.body.decode()
    if resp.status != 200:
        return resp.status, json.loads(text)["message"]
    return resp.status, text


def test_default_container_annotation_and_explicit_container() -> None:
    assert log(RUNNING) == (200, "".join(f"INFO request {i} served 200\n" for i in range(5)))
    assert log(RUNNING, container="istio-proxy")[1].startswith("[2026-11-26T09:59:00.000Z]")


def test_several_containers_without_a_default_need_a_name() -> None:
    p = copy.deepcopy(pod(RUNNING))
    p["metadata"]["annotations"] = {}
    assert log(RUNNING, p=p) == (
        400, f"a container name must be specified for pod {RUNNING}, choose one of: [web istio-proxy]")


def test_unknown_container_is_rejected() -> None:
    assert log(RUNNING, container="nope") == (400, f"container nope is not valid for pod {RUNNING}")


@pytest.mark.parametrize(("reason", "detail"), [
    ("ImagePullBackOff", "trying and failing to pull image"),
    ("ErrImagePull", "image can't be pulled"),
    ("ContainerCreating", "ContainerCreating"),
    ("CreateContainerConfigError", "CreateContainerConfigError"),
])
def test_waiting_container_has_no_log_yet(reason: str, detail: str) -> None:
    p = copy.deepcopy(pod(PULL))
    p["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": reason}}
    assert log(PULL, p=p) == (400, f'container "web" in pod "{PULL}" is waiting to start: {detail}')


def test_previous_needs_a_terminated_instance() -> None:
    assert log(RUNNING, previous="true") == (
        400, f'previous terminated container "web" in pod "{RUNNING}" not found')
    assert log(CRASH, previous="true")[1] == "starting web\nFATAL missing env DATABASE_URL\n"


def test_crash_looping_container_shows_its_last_instance() -> None:
    assert log(CRASH) == (200, "starting web\nFATAL missing env DATABASE_URL\n")


def test_tail_since_limit_and_timestamps() -> None:
    assert log(RUNNING, tailLines="2")[1] == "INFO request 3 served 200\nINFO request 4 served 200\n"
    assert log(RUNNING, tailLines="0")[1] == ""
    assert log(RUNNING, sinceSeconds="180")[1].count("\n") == 3  # lines at -3m, -2m, -1m
    since = STATE.clock.iso(STATE.clock.observe_at - timedelta(minutes=2))
    assert log(RUNNING, sinceTime=since)[1].count("\n") == 2
    assert log(RUNNING, limitBytes="10")[1] == "INFO reque"
    first = log(CRASH, timestamps="true")[1].splitlines()[0]
    assert first == "2026-01-01T11:57:00Z starting web"
    assert log(RUNNING, sinceSeconds="5", sinceTime=since)[0] == 400
    assert log(RUNNING, tailLines="x")[0] == 400


def test_rfc3339_nano_trims_trailing_zeros() -> None:
    t = STATE.clock.now
    assert rfc3339_nano(t) == "2026-01-01T12:00:00Z"
    assert rfc3339_nano(t.replace(microsecond=120000)) == "2026-01-01T12:00:00.12Z"


def test_unscheduled_pod_has_an_empty_log() -> None:
    p = copy.deepcopy(pod(PULL))
    del p["spec"]["nodeName"]
    p["status"] = {"phase": "Pending"}
    assert log(PULL, p=p) == (200, "")


def test_follow_answers_the_current_log() -> None:
    assert log(RUNNING, follow="true", tailLines="1") == (200, "INFO request 4 served 200\n")

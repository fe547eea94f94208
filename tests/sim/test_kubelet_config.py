"""Container configuration: env from ConfigMaps/Secrets, mounted volumes, and config that changes."""

from __future__ import annotations

from datetime import timedelta

from kubelet_fixtures import (
    NS,
    START,
    behaviour,
    configmap,
    container,
    cstatus,
    events,
    get_pod,
    iso,
    logs,
    pod,
    run,
    secret,
)

from atlas_sre.sim.kubelet import images as img
from atlas_sre.sim.state import Change, ClusterState

APP = "example.io/shop/payments:3.0"
REG = {APP: behaviour(listen=[{"port": 8080}],
                      requires=[{"env": "DB_PASSWORD", "equals": "s3cret", "log": "FATAL auth failed for {env}"}])}


def _from(kind: str, name: str, key: str, optional: bool = False) -> dict:
    ref = {"name": name, "key": key}
    if optional:
        ref["optional"] = True
    return {"name": "DB_PASSWORD", "valueFrom": {kind: ref}}


def _waiting(state: ClusterState, name: str = "payments") -> dict:
    return cstatus(state, name)["state"]["waiting"]


def test_missing_configmap_is_create_container_config_error() -> None:
    state = run([pod("payments", [container("payments", APP, env=[_from("configMapKeyRef", "db", "password")])])],
                REG, minutes=2)
    assert _waiting(state) == {"reason": "CreateContainerConfigError", "message": 'configmap "db" not found'}
    failed = events(state, "payments")[("Failed", 'Error: configmap "db" not found')]
    # retried on every pod sync (12.5s) from the first attempt, right after the pull at +1s
    first = 1000 + img.pull_ms(APP)
    assert failed["type"] == "Warning" and failed["count"] == (120_000 - first) // 12_500 + 1
    assert failed["firstTimestamp"] == iso(START + timedelta(milliseconds=first))
    assert get_pod(state, "payments")["status"]["phase"] == "Pending"
    assert logs(state, "payments", "payments") is None


def test_missing_key_and_missing_secret() -> None:
    objs = [
        pod("key", [container("payments", APP, env=[_from("configMapKeyRef", "db", "password")])]),
        pod("sec", [container("payments", APP, env=[_from("secretKeyRef", "db-creds", "password")])]),
        pod("seckey", [container("payments", APP, env=[_from("secretKeyRef", "db-creds-v2", "password")])]),
        configmap("db", {"user": "shop"}), secret("db-creds-v2", {"username": "shop"}),
    ]
    state = run(objs, REG, minutes=2)
    assert _waiting(state, "key")["message"] == "couldn't find key password in ConfigMap shop/db"
    assert _waiting(state, "sec")["message"] == 'secret "db-creds" not found'
    assert _waiting(state, "seckey")["message"] == "couldn't find key password in Secret shop/db-creds-v2"


def test_env_from_and_optional_refs() -> None:
    objs = [
        pod("envfrom", [container("payments", APP, envFrom=[{"configMapRef": {"name": "payments-env"}}])]),
        pod("optional", [container("payments", APP, env=[_from("configMapKeyRef", "db", "password", True)])]),
    ]
    state = run(objs, REG, minutes=2)
    assert _waiting(state, "envfrom")["message"] == 'configmap "payments-env" not found'
    # optional and missing: the container is created, and the app itself fails its check
    opt = cstatus(state, "optional")
    assert opt["restartCount"] >= 1
    assert logs(state, "optional", "payments", previous=True) == ["FATAL auth failed for DB_PASSWORD"]


def test_secret_values_are_decoded_for_requirements() -> None:
    objs = [pod("ok", [container("payments", APP, env=[_from("secretKeyRef", "db-creds", "password")])]),
            pod("wrong", [container("payments", APP, envFrom=[{"secretRef": {"name": "other"}}])]),
            secret("db-creds", {"password": "s3cret"}), secret("other", {"DB_PASSWORD": "hunter2"})]
    state = run(objs, REG, minutes=3)
    assert "running" in cstatus(state, "ok")["state"] and cstatus(state, "ok")["restartCount"] == 0
    assert cstatus(state, "wrong")["lastState"]["terminated"]["exitCode"] == 1


def test_missing_configmap_volume_blocks_the_sandbox() -> None:
    volumes = [{"name": "config", "configMap": {"name": "payments-config"}}]
    state = run([pod("payments", [container("payments", APP)], volumes=volumes)], REG, minutes=40)
    status = get_pod(state, "payments")["status"]
    assert status["phase"] == "Pending" and "podIP" not in status
    assert cstatus(state, "payments")["state"] == {"waiting": {"reason": "ContainerCreating"}}
    conds = {c["type"]: c for c in status["conditions"]}
    assert conds["PodReadyToStartContainers"]["status"] == "False"
    ev = events(state, "payments")
    mount = ev[("FailedMount", 'MountVolume.SetUp failed for volume "config" : configmap "payments-config" not found')]
    # retries at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5, 63.5s (doubling), then every 2m2s from 127.5s:
    # 8 + (1 + (2400 - 127.5) // 122) = 8 + 19 = 27, the last at 127.5 + 18 * 122 = 2323.5s
    assert mount["count"] == 27 and mount["type"] == "Warning"
    assert mount["lastTimestamp"] == iso(START + timedelta(milliseconds=2_323_500))
    assert "fieldPath" not in mount["involvedObject"]
    assert not any(reason == "Pulling" for reason, _ in ev)


def test_secret_volume_with_missing_key_and_optional_volume() -> None:
    volumes = [{"name": "tls", "secret": {"secretName": "tls", "items": [{"key": "tls.crt", "path": "c"}]}},
               {"name": "extra", "configMap": {"name": "nope", "optional": True}}]
    state = run([pod("payments", [container("payments", APP)], volumes=volumes), secret("tls", {"ca.crt": "x"})],
                REG, minutes=1)
    msg = 'MountVolume.SetUp failed for volume "tls" : secret references non-existent secret key: tls.crt'
    assert ("FailedMount", msg) in events(state, "payments")


def test_configmap_created_later_unblocks_the_container() -> None:
    at = START + timedelta(minutes=10)
    history = {f"{NS}/ConfigMap/db": Change(at=at, previous=None)}
    objs = [pod("payments", [container("payments", APP, env=[_from("configMapKeyRef", "db", "password")])]),
            configmap("db", {"password": "s3cret"})]
    state = run(objs, REG, minutes=20, history=history)
    cs = cstatus(state, "payments")
    assert "running" in cs["state"] and cs["restartCount"] == 0
    started = cs["state"]["running"]["startedAt"]
    assert iso(at) <= started <= iso(at + timedelta(seconds=14))


def test_configmap_deleted_later_spares_running_containers_only() -> None:
    at = START + timedelta(minutes=10)
    old = configmap("db", {"password": "s3cret"})
    history = {f"{NS}/ConfigMap/db": Change(at=at, previous=old)}
    env = [_from("configMapKeyRef", "db", "password")]
    objs = [pod("before", [container("payments", APP, env=env)]),
            pod("after", [container("payments", APP, env=env)], created=START + timedelta(minutes=15))]
    state = run(objs, REG, minutes=20, history=history)
    assert "running" in cstatus(state, "before")["state"]
    assert _waiting(state, "after")["reason"] == "CreateContainerConfigError"

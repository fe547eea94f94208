"""Pod-level behaviour: init containers, QoS, unscheduled pods, events' lifetime, determinism, scale."""

from __future__ import annotations

import copy
from datetime import timedelta

from kubelet_fixtures import (
    SEED,
    START,
    behaviour,
    clock,
    configmap,
    container,
    cstatus,
    events,
    get_pod,
    logs,
    node,
    pod,
    run,
)

from atlas_sre.sim.kubelet.events import Lattice, Series, _admit
from atlas_sre.sim.kubelet.stage import kubelet_stage, template_becomes_ready
from atlas_sre.sim.state import ClusterState, SimSpec

APP = "example.io/shop/orders:1.0"
TOOL = "example.io/tools/migrate:1.0"
SIDE = "docker.io/istio/proxyv2:1.24.0"
REG = {
    APP: behaviour(listen=[{"port": 8080}], health={"path": "/health"}, logs={"ready": "orders on :{port}"}),
    TOOL: behaviour(exit={"code": 0, "afterSeconds": 4, "log": "schema up to date"},
                    requires=[{"env": "DB_HOST", "log": "migrate: {env} not set", "exitCode": 2}]),
    "example.io/tools/wait:1.0": behaviour(hang=True, logs={"startup": ["waiting for db..."]}),
    SIDE: behaviour(listen=[{"port": 15021}], health={"path": "/healthz/ready"}),
}


def _conditions(state: ClusterState, name: str) -> dict[str, dict]:
    return {c["type"]: c for c in get_pod(state, name)["status"]["conditions"]}


def test_init_container_crash_loop_blocks_the_app() -> None:
    p = pod("orders", [container("orders", APP)], init=[container("migrate", TOOL)])
    state = run([p], REG, minutes=10)
    init = cstatus(state, "orders", init=True)
    assert init["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert init["lastState"]["terminated"]["exitCode"] == 2 and init["restartCount"] >= 4
    assert cstatus(state, "orders")["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert get_pod(state, "orders")["status"]["phase"] == "Pending"
    cond = _conditions(state, "orders")["Initialized"]
    assert cond["status"] == "False" and cond["reason"] == "ContainersNotInitialized"
    assert cond["message"] == "containers with incomplete status: [migrate]"
    assert logs(state, "orders", "migrate", previous=True) == ["migrate: DB_HOST not set"]
    uid = get_pod(state, "orders")["metadata"]["uid"]
    backoff = events(state, "orders")[("BackOff", f"Back-off restarting failed container migrate in pod "
                                                  f"orders_shop({uid})")]
    assert backoff["involvedObject"]["fieldPath"] == "spec.initContainers{migrate}"


def test_hanging_init_container_keeps_pod_initializing() -> None:
    p = pod("orders", [container("orders", APP)], init=[container("wait-db", "example.io/tools/wait:1.0")])
    state = run([p], REG, minutes=10)
    init = cstatus(state, "orders", init=True)
    assert "running" in init["state"] and init["ready"] is False and init["restartCount"] == 0
    assert cstatus(state, "orders")["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert get_pod(state, "orders")["status"]["phase"] == "Pending"
    assert logs(state, "orders", "wait-db") == ["waiting for db..."]


def test_completed_init_then_app_runs() -> None:
    p = pod("orders", [container("orders", APP)], init=[container("migrate", TOOL, env=[
        {"name": "DB_HOST", "value": "db"}])])
    state = run([p], REG, minutes=5)
    init = cstatus(state, "orders", init=True)
    assert init["state"]["terminated"]["reason"] == "Completed" and init["ready"] is True
    assert "running" in cstatus(state, "orders")["state"]
    conds = _conditions(state, "orders")
    assert conds["Initialized"]["status"] == "True" and conds["Ready"]["status"] == "True"
    assert conds["Initialized"]["lastTransitionTime"] > conds["PodScheduled"]["lastTransitionTime"]
    assert logs(state, "orders", "migrate") == ["schema up to date"]
    assert logs(state, "orders", "orders") == ["orders on :8080"]


def test_one_bad_container_keeps_the_pod_pending() -> None:
    p = pod("orders", [container("orders", APP), container("istio-proxy", "docker.io/istio/proxyv2:1.99.0")])
    state = run([p], REG, minutes=5)
    assert "running" in cstatus(state, "orders", "orders")["state"]
    assert cstatus(state, "orders", "istio-proxy")["state"]["waiting"]["reason"] == "ImagePullBackOff"
    assert get_pod(state, "orders")["status"]["phase"] == "Pending"
    assert _conditions(state, "orders")["Ready"]["message"] == "containers with unready status: [istio-proxy]"
    assert list(state.pod_usage[("shop", "orders")]) == ["orders"]


def test_qos_class() -> None:
    res = {
        "best": {},
        "burst": {"requests": {"cpu": "100m"}},
        "guaranteed": {"limits": {"cpu": "500m", "memory": "256Mi"}},
        "mem-only": {"limits": {"memory": "256Mi"}},
        "equal": {"requests": {"cpu": "0.5", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
    }
    state = run([pod(n, [container("c", APP, resources=r)]) for n, r in res.items()], REG, minutes=2)
    assert {n: get_pod(state, n)["status"]["qosClass"] for n in res} == {
        "best": "BestEffort", "burst": "Burstable", "guaranteed": "Guaranteed", "mem-only": "Burstable",
        "equal": "Guaranteed"}


def test_unscheduled_pod_only_gets_phase_conditions_and_qos() -> None:
    p = pod("orders", [container("orders", APP)], node_name=None)
    p["status"]["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                  "message": "0/1 nodes are available"}]
    state = run([p], REG, minutes=5)
    status = get_pod(state, "orders")["status"]
    assert status["phase"] == "Pending" and status["qosClass"] == "BestEffort"
    assert status["conditions"][0]["reason"] == "Unschedulable"
    assert "containerStatuses" not in status and events(state, "orders") == {}


def test_events_older_than_the_ttl_are_gone() -> None:
    state = run([pod("orders", [container("orders", APP)])], REG, minutes=90)
    assert events(state, "orders") == {}
    assert "running" in cstatus(state, "orders")["state"]


def test_spam_filter_burst_then_one_per_five_minutes() -> None:
    # one occurrence every 10s for an hour (0, 10, ..., 3590s). The first 25 pass (0..240s); the
    # bucket then holds 240/300 = 0.8 tokens and reaches 1 at 300s, then every 300s: 600 ... 3300.
    s = Series("Warning", "Unhealthy", "x", None, [Lattice(0, 10_000, 360)])
    (last,) = _admit([s], 0)
    assert last == 3_300_000
    assert s.lattices[0].count_at_or_before(last) == 331
    repeated = Lattice(1000, 500, 3, 60_000, 4)  # 3 ticks, 4 times a minute apart
    assert repeated.first_at_or_after(62_000) == 62_000 and repeated.first_at_or_after(62_001) == 121_000
    assert repeated.count_at_or_before(121_000) == 7 and repeated.last() == 1000 + 1000 + 180_000


def test_same_input_same_output() -> None:
    def derive() -> ClusterState:
        objs = [pod("a", [container("orders", APP)], init=[container("migrate", TOOL)]),
                pod("b", [container("orders", "example.io/missing:1")]),
                pod("c", [container("orders", APP, readinessProbe={"httpGet": {"path": "/x", "port": 8080}})])]
        return run(objs, REG, minutes=30)

    one, two = derive(), derive()
    assert one.objects == two.objects and one.logs == two.logs and one.pod_usage == two.pod_usage


def test_template_becomes_ready_shares_the_kubelet_checks() -> None:
    spec = SimSpec(manifests=[configmap("db", {"host": "db"})], registry=REG, clock=clock(30), seed=SEED)
    state = ClusterState(clock=spec.clock, objects=[node()])

    def tmpl(image: str = APP, **c: object) -> dict:
        return {"metadata": {"labels": {"app": "orders"}}, "spec": {"containers": [container("orders", image, **c)]}}

    assert template_becomes_ready(spec, state, tmpl(readinessProbe={"httpGet": {"path": "/health", "port": 8080}}),
                                  "shop")
    assert not template_becomes_ready(spec, state, tmpl(readinessProbe={"httpGet": {"path": "/x", "port": 8080}}),
                                      "shop")
    assert not template_becomes_ready(spec, state, tmpl(image="example.io/missing:1"), "shop")
    assert not template_becomes_ready(spec, state, tmpl(command=["nope"]), "shop")
    bad_env = [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "db", "key": "port"}}}]
    assert not template_becomes_ready(spec, state, tmpl(env=bad_env), "shop")
    init_ok = {"spec": {"initContainers": [container("m", TOOL, env=[
        {"name": "DB_HOST", "valueFrom": {"configMapKeyRef": {"name": "db", "key": "host"}}}])],
        "containers": [container("orders", APP)]}}
    assert template_becomes_ready(spec, state, init_ok, "shop")
    init_bad = {"spec": {"initContainers": [container("m", TOOL)], "containers": [container("orders", APP)]}}
    assert not template_becomes_ready(spec, state, init_bad, "shop")
    leak = {APP: behaviour(listen=[{"port": 8080}], usage={"memoryMi": 100, "memoryGrowthMiPerMin": 1})}
    spec.registry = leak
    limited = tmpl(resources={"limits": {"memory": "256Mi"}})
    assert template_becomes_ready(spec, state, limited, "shop")  # OOMs after 2.6h: the rollout finishes
    spec.registry = {APP: behaviour(usage={"memoryMi": 300})}
    assert not template_becomes_ready(spec, state, limited, "shop")


def test_ten_thousand_pods_derive_quickly() -> None:
    reg = {APP: behaviour(listen=[{"port": 8080}], health={"path": "/health"}, logs={"startup": ["boot"]})}
    base = pod("p", [container("orders", APP, readinessProbe={"httpGet": {"path": "/health", "port": 8080}},
                               resources={"limits": {"memory": "256Mi"}})])
    objs = [node()]
    for i in range(10_000):
        p = copy.deepcopy(base)
        p["metadata"]["name"] = f"orders-{i}"
        p["metadata"]["uid"] = f"uid-{i}"
        objs.append(p)
    spec = SimSpec(manifests=[], registry=reg, clock=clock(120), seed=SEED)
    state = ClusterState(clock=spec.clock, objects=objs)
    kubelet_stage(spec, state)  # speed is measured in bench/, not asserted here
    assert all(o["status"]["phase"] == "Running" for o in objs[1:])
    assert START + timedelta(minutes=120) == spec.clock.observe_at


def test_native_sidecar_only_has_to_start() -> None:
    side = container("istio-proxy", SIDE, restartPolicy="Always",
                     readinessProbe={"httpGet": {"path": "/healthz/ready", "port": 15021}})
    state = run([pod("orders", [container("orders", APP)], init=[side])], REG, minutes=5)
    init = cstatus(state, "orders", init=True)
    assert "running" in init["state"] and init["ready"] is True and init["started"] is True
    assert "running" in cstatus(state, "orders")["state"]
    assert _conditions(state, "orders")["Initialized"]["status"] == "True"
    assert set(state.pod_usage[("shop", "orders")]) == {"istio-proxy", "orders"}


def test_always_pull_policy_pulls_on_every_restart() -> None:
    latest = "example.io/tools/migrate:latest"
    reg = {latest: behaviour(exit={"code": 1, "afterSeconds": 1})}
    state = run([pod("orders", [container("orders", latest)])], reg, minutes=2)
    ev = events(state, "orders")
    pulling = ev[("Pulling", f'Pulling image "{latest}"')]
    assert pulling["count"] == cstatus(state, "orders")["restartCount"] + 1
    assert not any(msg.endswith("already present on machine") for _, msg in ev)

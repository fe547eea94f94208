"""Time: errors start when the faulty object changed (spec.history), and in-cluster traffic sources."""

from __future__ import annotations

from datetime import timedelta

from test_mesh_fixtures import (
    FAULT,
    NS,
    OBSERVE,
    alerts,
    deployment,
    entry_codes,
    gateway_lines,
    lines,
    manifests,
    registry,
    run,
    series,
)

from atlas_sre.sim.images import Address, Call, Health, ImageBehaviour, Listen
from atlas_sre.sim.state import Change

DENY_GET = {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"name": "deny-get", "namespace": "istio-system"},
            "spec": {"selector": {"matchLabels": {"istio": "ingressgateway"}}, "action": "DENY",
                     "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]}}
KEY = "istio-system/AuthorizationPolicy/deny-get"


def test_gateway_deny_starves_the_app_and_fires_no_requests_received() -> None:
    state = run(manifests() + [DENY_GET], history={KEY: Change(at=FAULT, previous=None)})
    assert entry_codes(state) == {"403": 10.0}
    assert all("403 - rbac_access_denied_matched_policy[ns[istio-system]-policy[deny-get]-rule[0]]" in t
               for t in gateway_lines(state))
    fired = {(a["alertname"], a["service"]) for a in alerts(state)}
    assert fired == {("HighRequestErrorRate", "istio-ingressgateway"), ("NoRequestsReceived", "frontend"),
                     ("NoRequestsReceived", "backend"), ("NoRequestsReceived", "db")}
    starved = next(a for a in alerts(state, "NoRequestsReceived") if a["service"] == "frontend")
    assert starved["startsAt"] == "2026-11-26T09:30:00Z"  # fault + 5m rate window + 5m for
    # no request reached the app in the log window: only its start-up lines (sim/workloads/applogs.py)
    assert lines(state, "frontend", "frontend") == ["Starting frontend version 1.0",
                                                    "HTTP server listening on 0.0.0.0:8080"]


def test_a_change_inside_the_log_window_splits_the_logs() -> None:
    at = OBSERVE - timedelta(minutes=2)
    state = run(manifests() + [DENY_GET], history={KEY: Change(at=at, previous=None)})
    gw = gateway_lines(state)
    stamp = "[2026-11-26T09:58:00.000Z]"
    before, after = [t for t in gw if t[:26] < stamp], [t for t in gw if t[:26] >= stamp]
    assert before and all('"GET / HTTP/1.1" 200 - via_upstream' in t for t in before)
    assert after and all('"GET / HTTP/1.1" 403 - rbac_access_denied' in t for t in after)
    assert abs(entry_codes(state)["403"] - 4.0) < 1e-6  # 2 of the 5 window minutes
    assert alerts(state) == []  # not for long enough to fire


def test_no_history_means_the_condition_held_since_the_fault_time() -> None:
    state = run(manifests() + [DENY_GET])
    assert alerts(state, "NoRequestsReceived") == []  # nothing to compare with
    assert alerts(state, "HighRequestErrorRate")[0]["startsAt"] == "2026-11-26T09:25:00Z"


def test_env_from_a_configmap_changed_without_restart_keeps_the_old_address() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "addrs", "namespace": NS},
          "data": {"BACKEND_ADDR": "nowhere:8080"}}
    objs = manifests() + [cm]
    frontend = next(o for o in objs if o["metadata"]["name"] == "frontend-v1")
    frontend["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "BACKEND_ADDR", "valueFrom": {"configMapKeyRef": {"name": "addrs", "key": "BACKEND_ADDR"}}}]
    previous = {**cm, "data": {"BACKEND_ADDR": "backend:8080"}}
    state = run(objs, history={f"{NS}/ConfigMap/addrs": Change(at=FAULT, previous=previous)})
    assert entry_codes(state) == {"200": 10.0}  # the process read its env at start, before the change
    fresh = run(objs)
    assert entry_codes(fresh) == {"503": 10.0}


def test_load_generator_pods_send_through_their_own_sidecar() -> None:
    image = "example.io/shop/loadgen:1.0"
    reg = registry()
    reg[image] = ImageBehaviour(listen=[Listen(port=8089)], health=Health(),
                                calls=[Call(name="frontend", address=Address(default="frontend:8080"))])
    gen = deployment("loadgenerator", image, 8089)
    traffic = {"entrypoints": [{"service": "shop/frontend", "port": 8080, "path": "/", "rps": 5,
                                "source": "shop/loadgenerator-v1"}]}
    state = run(manifests() + [gen], reg=reg, traffic=traffic)
    assert entry_codes(state) == {"200": 5.0}
    rows = series(state, reporter="source", source_workload="loadgenerator-v1", destination_service_name="frontend")
    assert rows and rows[0]["rate"] == 5.0
    assert not gateway_lines(state)
    anonymous = run(traffic={"entrypoints": [{"service": "shop/frontend", "port": 8080, "rps": 3, "mesh": False}]})
    assert series(anonymous, reporter="destination", source_workload="unknown", destination_service_name="frontend")


def test_a_reverted_service_selector_restores_the_before_traffic() -> None:
    objs = manifests()
    backend = next(o for o in objs if o["kind"] == "Service" and o["metadata"]["name"] == "backend")
    previous = {**backend, "spec": {**backend["spec"], "selector": {"app": "backend"}}}
    backend["spec"]["selector"] = {"app": "backend-typo"}
    state = run(objs, history={f"{NS}/Service/backend": Change(at=FAULT, previous=previous)})
    rows = series(state, reporter="source", source_workload="frontend-v1", destination_service_name="backend")
    assert {r["response_flags"] for r in rows} == {"UH"}
    fired = {(a["alertname"], a["service"]) for a in alerts(state) if "service" in a}
    assert fired == {("HighRequestErrorRate", "backend"), ("HighRequestErrorRate", "frontend"),
                     ("NoRequestsReceived", "db")}
    assert next(a for a in alerts(state, "HighRequestErrorRate") if a["service"] == "backend")["startsAt"] == \
        "2026-11-26T09:25:10Z"

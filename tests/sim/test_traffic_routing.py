"""Routing faults end to end: each changes one Istio object and reads the signature from the derived logs,
metrics and alerts (the client proxy of `frontend` calls `backend`)."""

from __future__ import annotations

import re
from typing import Any

from test_mesh_fixtures import (
    IP,
    NS,
    STAMP,
    UUID,
    access,
    alerts,
    edit,
    entry,
    entry_codes,
    gateway_lines,
    lines,
    manifests,
    outbound,
    registry,
    run,
    series,
)

CLUSTER = "outbound|8080||backend.shop.svc.cluster.local"


def vs(http: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "backend", "namespace": NS},
            "spec": {"hosts": ["backend"], "http": http}}


def dr(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": "backend", "namespace": NS},
            "spec": {"host": "backend", **spec}}


def matching(pattern: re.Pattern[str], texts: list[str]) -> list[str]:
    return [t for t in texts if pattern.match(t)]


def test_virtual_service_subset_missing_gives_nc_in_callers_proxy_and_503_at_entry() -> None:
    state = run(manifests() + [vs([{"route": [{"destination": {"host": "backend", "subset": "v2"}}]}]),
                               dr({"subsets": [{"name": "v1", "labels": {"version": "v1"}}]})])
    nc = outbound("503", "NC", "cluster_not_found", "backend:8080", "-", "-", "-")
    assert matching(nc, access(state, "frontend"))
    assert all(" 0 0 0 - " in t for t in matching(nc, access(state, "frontend")))  # no body, no upstream time
    assert not [t for t in access(state, "backend") if "inbound|8080||" in t]  # nothing reached backend
    assert entry_codes(state) == {"503": 10.0}
    assert "ERROR [frontend] call to backend failed: 503" in lines(state, "frontend", "frontend")
    names = {(a["alertname"], a["service"]) for a in alerts(state)}
    # NC is the caller's own proxy's answer: backend received nothing, the caller's workload is alerted
    assert ("HighRequestErrorRate", "frontend") in names and ("HighRequestErrorRate", "frontend-v1") in names
    assert ("HighRequestErrorRate", "backend") not in names
    nc_rows = series(state, reporter="source", response_flags="NC")
    assert nc_rows and nc_rows[0]["destination_service_name"] == "backend" and nc_rows[0]["response_code"] == 503


def test_weighted_split_to_a_missing_subset_fails_that_share_only() -> None:
    state = run(manifests() + [vs([{"route": [{"destination": {"host": "backend", "subset": "v1"}, "weight": 75},
                                              {"destination": {"host": "backend", "subset": "v3"}, "weight": 25}]}]),
                               dr({"subsets": [{"name": "v1", "labels": {"version": "v1"}}]})])
    rows = series(state, reporter="source", source_workload="frontend-v1")
    total = sum(r["rate"] for r in rows)
    nc = sum(r["rate"] for r in rows if r["response_flags"] == "NC")
    assert abs(nc / total - 0.25) < 1e-4
    # the gateway retries the frontend's 503 twice: 0.25 ** 3 of users still see it
    assert abs(entry_codes(state)["503"] - 10 * 0.25**3) < 1e-3


def test_destination_rule_subset_selecting_no_pods_gives_uh() -> None:
    state = run(manifests() + [vs([{"route": [{"destination": {"host": "backend", "subset": "v9"}}]}]),
                               dr({"subsets": [{"name": "v9", "labels": {"version": "v9"}}]})])
    uh = outbound("503", "UH", "no_healthy_upstream", "backend:8080", "-",
                  "outbound|8080|v9|backend.shop.svc.cluster.local", "-")
    found = matching(uh, access(state, "frontend"))
    assert found and all(' 0 19 0 - "-"' in t for t in found)
    assert "ERROR [frontend] call to backend failed: 503 no healthy upstream" in lines(state, "frontend", "frontend")


def test_fault_abort_gives_fi_and_delay_gives_di() -> None:
    state = run(manifests() + [vs([{"fault": {"abort": {"httpStatus": 500, "percentage": {"value": 100}}},
                                    "route": [{"destination": {"host": "backend"}}]}])])
    fi = outbound("500", "FI", "fault_filter_abort", "backend:8080", "-", CLUSTER, "-")
    assert matching(fi, access(state, "frontend"))
    assert "ERROR [frontend] call to backend failed: 500 fault filter abort" in lines(state, "frontend", "frontend")
    slow = run(manifests() + [vs([{"fault": {"delay": {"fixedDelay": "2s", "percentage": {"value": 50}}},
                                   "route": [{"destination": {"host": "backend"}}]}])])
    di = [t for t in access(slow, "frontend") if '"GET /api/items HTTP/1.1" 200 DI via_upstream' in t]
    assert di and all(int(t.split()[11]) >= 2000 and int(t.split()[12]) < 100 for t in di)  # upstream time excludes it
    assert {r["response_flags"] for r in series(slow, reporter="source", source_workload="frontend-v1")} == {"-", "DI"}


def test_route_timeout_shorter_than_upstream_latency_gives_504_ut() -> None:
    state = run(manifests() + [vs([{"timeout": "1s", "route": [{"destination": {"host": "backend"}}]}])],
                reg=registry(db_latency=3000))
    ut = outbound("504", "UT", "response_timeout", "backend:8080", IP + r":8080", CLUSTER, "-")
    found = matching(ut, access(state, "frontend"))
    assert found and all(' 0 24 1000 - "-"' in t for t in found)
    # the backend's proxy sees its downstream go away at the deadline
    assert [t for t in access(state, "backend") if '" 0 DC downstream_remote_disconnect - "-" 0 0 1000 ' in t]
    assert any(a["alertname"] == "HighRequestLatency" and a["service"] == "db" for a in alerts(state))


def test_tiny_connection_pool_overflows_a_share_with_uo() -> None:
    pool = {"connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}}
    state = run(manifests() + [dr({"trafficPolicy": pool})], traffic=entry(rps=40))
    uo = outbound("503", "UO", "upstream_reset_before_response_started{overflow}", "backend:8080", "-", CLUSTER,
                  "default")
    assert matching(uo, access(state, "frontend"))
    rows = series(state, reporter="source", source_workload="frontend-v1")
    share = sum(r["rate"] for r in rows if r["response_flags"] == "UO") / sum(r["rate"] for r in rows)
    assert 0.2 < share < 0.6
    calm = run(manifests() + [dr({"trafficPolicy": pool})], traffic=entry(rps=2))
    calm_rows = series(calm, reporter="source", source_workload="frontend-v1", response_flags="UO")
    assert sum(r["rate"] for r in calm_rows) < share * 2 / 40  # far below capacity: almost nothing overflows


def test_outlier_detection_ejects_an_erroring_upstream_and_answers_uh() -> None:
    def broken_db(d: dict[str, Any]) -> None:
        d["spec"]["template"]["spec"]["containers"][0]["env"][0] = {"name": "DB_ADDR", "value": "dbx:5000"}

    objs = manifests() + [dr({"trafficPolicy": {"outlierDetection": {
        "consecutive5xxErrors": 1, "interval": "1s", "baseEjectionTime": "3m", "maxEjectionPercent": 100}}})]
    state = run(edit(objs, "Deployment", "backend-v1", broken_db))
    rows = series(state, reporter="source", source_workload="frontend-v1")
    uh = sum(r["rate"] for r in rows if r["response_flags"] == "UH") / sum(r["rate"] for r in rows)
    assert uh > 0.9
    assert matching(outbound("503", "UH", "no_healthy_upstream", "backend:8080", "-", CLUSTER, "default"),
                    access(state, "frontend"))
    without = run(edit(manifests(), "Deployment", "backend-v1", broken_db))
    assert not series(without, reporter="source", response_flags="UH")


def test_gateway_host_mismatch_gives_404_nr_at_the_gateway() -> None:
    state = run(traffic=entry(host="wrong.example.com"))
    nr = re.compile(rf'^{STAMP} "GET / HTTP/1\.1" 404 NR route_not_found - "-" 0 0 0 - "172\.18\.0\.1" '
                    rf'"Mozilla/5\.0 [^"]+" "{UUID}" "wrong\.example\.com" "-" - - {IP}:8080 172\.18\.0\.1:\d+ - -$')
    assert matching(nr, gateway_lines(state))
    assert entry_codes(state) == {"404": 10.0}
    assert [(a["namespace"], a["service"]) for a in alerts(state, "HighRequestErrorRate")] == [
        ("istio-system", "istio-ingressgateway")]


def test_tcp_named_port_bypasses_l7_routing() -> None:
    objs = edit(manifests(), "Service", "backend", lambda s: s["spec"]["ports"][0].__setitem__("name", "tcp-api"))
    abort = vs([{"fault": {"abort": {"httpStatus": 500}}, "route": [{"destination": {"host": "backend"}}]}])
    state = run(objs + [abort])
    tcp = re.compile(rf'^{STAMP} "- - -" 0 - - - "-" 0 \d+ \d+ - "-" "-" "-" "-" "{IP}:8080" {re.escape(CLUSTER)} '
                     rf'{IP}:\d+ {IP}:8080 {IP}:\d+ - -$')
    assert matching(tcp, access(state, "frontend"))
    assert entry_codes(state) == {"200": 10.0}  # the HTTP abort never applies to a TCP port
    assert series(state, request_protocol="tcp", destination_service_name="backend")
    assert not series(state, request_protocol="http", destination_service_name="backend")
    assert alerts(state) == []


def test_sidecar_resource_hiding_a_dependency_black_holes_it() -> None:
    sc = {"apiVersion": "networking.istio.io/v1", "kind": "Sidecar", "metadata": {"name": "default", "namespace": NS},
          "spec": {"egress": [{"hosts": ["./db.shop.svc.cluster.local", "istio-system/*"]}],
                   "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}}
    state = run(manifests() + [sc])
    hole = outbound("502", "-", "direct_response", "backend:8080", "-", "-", "block_all")
    assert matching(hole, access(state, "frontend"))
    open_sc = {**sc, "spec": {"egress": sc["spec"]["egress"]}}
    passing = run(manifests() + [open_sc])
    through = outbound("200", "-", "via_upstream", "backend:8080", r"10\.96\.\d+\.\d+:8080", "PassthroughCluster",
                       "allow_any")
    assert matching(through, access(passing, "frontend"))
    assert entry_codes(passing) == {"200": 10.0}

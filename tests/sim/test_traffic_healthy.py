"""A healthy meshed app: every request succeeds, no alert fires, logs have Istio's exact shape, and the same
spec derives the same bytes."""

from __future__ import annotations

import re

from test_mesh_fixtures import (
    IP,
    STAMP,
    UUID,
    access,
    alerts,
    entry,
    gateway_lines,
    lines,
    make_spec,
    outbound,
    pods,
    run,
    series,
)

from atlas_sre.sim.engine import derive


def test_healthy_app_has_no_failed_request_and_no_alert() -> None:
    state = run()
    assert state.extras["mesh_entrypoints"] == [{"entry": "GET shop.example.com/", "rps": 10.0, "codes": {"200": 10.0},
                                                 "error_ratio": 0.0, "p50_ms": 36.5, "p99_ms": 36.5}]
    assert all(200 <= m["response_code"] < 300 for m in state.extras["mesh_metrics"])
    assert alerts(state) == []


def test_gateway_line_has_istios_default_format() -> None:
    gw = re.compile(
        rf'^{STAMP} "GET / HTTP/1\.1" 200 - via_upstream - "-" 0 \d+ \d+ \d+ "172\.18\.0\.1" "Mozilla/5\.0 [^"]+" '
        rf'"{UUID}" "shop\.example\.com" "{IP}:8080" outbound\|8080\|\|frontend\.shop\.svc\.cluster\.local {IP}:\d+ '
        rf'{IP}:8080 172\.18\.0\.1:\d+ - -$')
    found = gateway_lines(run())
    assert found and all(gw.match(t) for t in found)


def test_sidecars_log_both_directions() -> None:
    state = run()
    inbound = re.compile(
        rf'^{STAMP} "GET /api/items HTTP/1\.1" 200 - via_upstream - "-" 0 \d+ \d+ \d+ "-" "Go-http-client/1\.1" '
        rf'"{UUID}" "backend:8080" "{IP}:8080" inbound\|8080\|\| 127\.0\.0\.6:\d+ {IP}:8080 {IP}:\d+ '
        rf'outbound_\.8080_\._\.backend\.shop\.svc\.cluster\.local default$')
    assert [t for t in access(state, "backend") if inbound.match(t)]
    out = outbound("200", "-", "via_upstream", "backend:8080", IP + ":8080",
                   "outbound|8080||backend.shop.svc.cluster.local", "default")
    assert [t for t in access(state, "frontend") if out.match(t)]
    db = outbound("200", "-", "via_upstream", "db.shop:5000", IP + ":5000", "outbound|5000||db.shop.svc.cluster.local",
                  "default", path="/query")
    assert [t for t in access(state, "backend") if db.match(t)]


def test_app_request_lines_come_from_the_image_template() -> None:
    state = run()
    # the image declares only a request line: the start-up lines are derived (sim/workloads/applogs.py)
    assert set(lines(state, "frontend", "frontend")) == {
        "Starting frontend version 1.0", "HTTP server listening on 0.0.0.0:8080", 'INFO [frontend] "GET /" 200 36ms'}
    assert set(lines(state, "backend", "backend")) == {
        "Starting backend version 1.0", "HTTP server listening on 0.0.0.0:8080", 'INFO [backend] "GET /api/items" 200'}


def test_log_volume_is_bounded_and_spread_over_the_window() -> None:
    state = run(traffic=entry(rps=500))
    gw = gateway_lines(state)
    assert 100 <= len(gw) <= 130
    minutes = {t[15:17] for t in gw}
    assert minutes == {"55", "56", "57", "58", "59"}


def test_metrics_count_each_hop_per_reporter() -> None:
    state = run()
    rows = series(state, source_workload="frontend-v1", destination_service_name="backend")
    assert {(r["reporter"], r["rate"], r["destination_workload"]) for r in rows} == {
        ("source", 10.0, "backend-v1"), ("destination", 10.0, "backend-v1")}
    assert series(state, source_workload="backend-v1", destination_service="db.shop.svc.cluster.local",
                  reporter="source")[0]["p99_ms"] == 5.5


def test_request_rate_adds_cpu_to_the_serving_containers() -> None:
    calm, busy = run(traffic=entry(rps=1)), run(traffic=entry(rps=400))
    pod = pods(busy, "backend")[0]["metadata"]["name"]
    key = ("shop", pod)
    assert busy.pod_usage[key]["backend"].cpu_milli - calm.pod_usage[key]["backend"].cpu_milli == 100
    assert busy.pod_usage[key]["istio-proxy"].cpu_milli > calm.pod_usage[key]["istio-proxy"].cpu_milli
    assert busy.extras["mesh_load"][key] == {"backend": 200.0, "istio-proxy": 400.0}


def test_same_spec_derives_identical_logs_metrics_and_alerts() -> None:
    a, b = derive(make_spec()), derive(make_spec())
    assert a.logs == b.logs
    assert a.extras["mesh_metrics"] == b.extras["mesh_metrics"]
    assert a.extras["alerts"] == b.extras["alerts"]
    other = derive(make_spec(seed=8))
    assert gateway_lines(other) != gateway_lines(a)  # the seed drives ids, ports and times

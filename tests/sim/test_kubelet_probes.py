"""Probes against what the process serves: readiness 404 / refused, liveness kills, startup probes."""

from __future__ import annotations

from kubelet_fixtures import POD_IP, behaviour, container, cstatus, events, get_pod, pod, run

from atlas_sre.sim.kubelet import images as img
from atlas_sre.sim.kubelet.probes import Probe, probe_outcome

APP = "example.io/shop/cart:1.4"
REG = {APP: behaviour(listen=[{"port": 8080}], health={"path": "/health"}, startupSeconds=0.5)}


def _probe(path: str = "/health", port: int | str = 8080, **kw: int) -> dict:
    return {"httpGet": {"path": path, "port": port}, **kw}


def _ready_failures(minutes: float) -> int:
    """Probe ticks at start+1s+10s*k before the horizon (start = 1000 sandbox + pull + 120)."""
    start = 1000 + img.pull_ms(APP) + 120
    horizon = int(minutes * 60_000)
    return (horizon - start - 1000 - 1) // 10_000 + 1


def test_readiness_path_404_keeps_pod_running_but_unready() -> None:
    c = container("cart", APP, readinessProbe=_probe("/healthz"))
    state = run([pod("cart", [c])], REG, minutes=1)
    cs = cstatus(state, "cart")
    assert "running" in cs["state"] and cs["ready"] is False and cs["started"] is True
    status = get_pod(state, "cart")["status"]
    assert status["phase"] == "Running"
    ready = next(x for x in status["conditions"] if x["type"] == "Ready")
    assert ready["status"] == "False" and ready["message"] == "containers with unready status: [cart]"
    ev = events(state, "cart")[("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 404")]
    assert ev["type"] == "Warning" and ev["count"] == _ready_failures(1)
    assert ev["involvedObject"]["fieldPath"] == "spec.containers{cart}"


def test_readiness_on_a_port_nobody_listens_on_is_refused() -> None:
    c = container("cart", APP, readinessProbe=_probe(port=9090))
    state = run([pod("cart", [c])], REG, minutes=1)
    message = (f'Readiness probe failed: Get "http://{POD_IP}:9090/health": dial tcp {POD_IP}:9090: '
               "connect: connection refused")
    assert events(state, "cart")[("Unhealthy", message)]["count"] == _ready_failures(1)
    assert cstatus(state, "cart")["ready"] is False


def test_named_port_and_tcp_probe_resolve_against_container_ports() -> None:
    ports = [{"name": "http", "containerPort": 8080}]
    good = container("cart", APP, ports=ports, readinessProbe=_probe(port="http"),
                     livenessProbe={"tcpSocket": {"port": 8080}})
    bad = container("cart", APP, ports=ports, readinessProbe={"tcpSocket": {"port": 8081}})
    state = run([pod("good", [good]), pod("bad", [bad])], REG, minutes=1)
    assert cstatus(state, "good")["ready"] is True
    assert cstatus(state, "bad")["ready"] is False
    message = f"Readiness probe failed: dial tcp {POD_IP}:8081: connect: connection refused"
    assert ("Unhealthy", message) in events(state, "bad")


def test_probe_before_the_app_listens_fails_once_then_ready() -> None:
    reg = {APP: behaviour(listen=[{"port": 8080}], health={"path": "/health"}, startupSeconds=8)}
    state = run([pod("cart", [container("cart", APP, readinessProbe=_probe())])], reg, minutes=1)
    ev = events(state, "cart")
    refused = (f'Readiness probe failed: Get "http://{POD_IP}:8080/health": dial tcp {POD_IP}:8080: '
               "connect: connection refused")
    assert ev[("Unhealthy", refused)]["count"] == 1  # the tick at +1s; +11s finds it listening
    assert cstatus(state, "cart")["ready"] is True


def test_liveness_failure_kills_and_restarts_with_back_off() -> None:
    # threshold 1, grace 0: each instance is killed at its first probe, 1s after it starts.
    # s1 = 1000+p+120; kill/exit f1 = s1+1000; s2 = f1+1120 (first restart is immediate);
    # f2 = s2+1000; s3 = f2+1000+12500+120; f3 = s3+1000; s4 = f3+1000+25000+120. Observe s4+500.
    p = img.pull_ms(APP)
    s1 = 1000 + p + 120
    s2 = s1 + 1000 + 1120
    s3 = s2 + 1000 + 13620
    s4 = s3 + 1000 + 26120
    c = container("cart", APP, livenessProbe=_probe("/live", failureThreshold=1))
    state = run([pod("cart", [c], terminationGracePeriodSeconds=0)], REG, minutes=(s4 + 500) / 60_000)
    cs = cstatus(state, "cart")
    assert cs["restartCount"] == 3 and "running" in cs["state"]
    last = cs["lastState"]["terminated"]
    assert last["exitCode"] == 137 and last["reason"] == "Error"
    ev = events(state, "cart")
    assert ev[("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404")]["count"] == 3
    killing = ev[("Killing", "Container cart failed liveness probe, will be restarted")]
    assert killing["count"] == 3 and killing["type"] == "Normal"
    uid = get_pod(state, "cart")["metadata"]["uid"]
    assert ev[("BackOff", f"Back-off restarting failed container cart in pod cart_shop({uid})")]["count"] == 3


def test_liveness_kill_waits_for_the_grace_period() -> None:
    c = container("cart", APP, livenessProbe=_probe("/live"))
    state = run([pod("cart", [c])], REG, minutes=1)
    # default period 10s, threshold 3: killed at +21s, SIGKILL after 30s grace at +51s
    cs = cstatus(state, "cart")
    assert cs["restartCount"] == 1
    last = cs["lastState"]["terminated"]
    assert last["exitCode"] == 137


def test_startup_probe_gates_readiness_and_kills_when_it_never_passes() -> None:
    slow = {APP: behaviour(listen=[{"port": 8080}], health={"path": "/health"}, startupSeconds=45)}
    ok = container("cart", APP, startupProbe=_probe(failureThreshold=10), readinessProbe=_probe())
    state = run([pod("cart", [ok])], slow, minutes=1)
    cs = cstatus(state, "cart")
    assert cs["started"] is True and cs["ready"] is True and cs["restartCount"] == 0
    short = container("cart", APP, startupProbe=_probe(failureThreshold=2))
    state = run([pod("cart", [short], terminationGracePeriodSeconds=0)], slow, minutes=1)
    ev = events(state, "cart")
    assert ("Killing", "Container cart failed startup probe, will be restarted") in ev
    assert cstatus(state, "cart")["restartCount"] >= 1


def test_exec_probe_needs_its_binary() -> None:
    reg = {APP: behaviour(listen=[{"port": 8080}], binaries=["/bin/grpc_health_probe"], startupSeconds=0.5)}
    good = container("cart", APP, readinessProbe={"exec": {"command": ["/bin/grpc_health_probe", "-addr=:8080"]}})
    bad = container("cart", APP, readinessProbe={"exec": {"command": ["curl", "-f", "localhost:8080"]}})
    state = run([pod("good", [good]), pod("bad", [bad])], reg, minutes=1)
    assert cstatus(state, "good")["ready"] is True
    assert cstatus(state, "bad")["ready"] is False
    assert any(k[1].startswith('Readiness probe failed: OCI runtime exec failed') and '"curl"' in k[1]
               for k in events(state, "bad"))


def test_probe_outcome_closed_form() -> None:
    live = Probe("Liveness", 0, 10_000, 3, 1, "refused", None)
    # listening from 25s: ticks at 1s, 11s, 21s fail (3 in a row) -> killed at 21s
    out = probe_outcome({"Liveness": live}, 25_000, None)
    assert out.kill_after == 21_000 and out.kill_kind == "liveness"
    assert out.failures == (("Liveness probe failed: refused", 1000, 10_000, 3),)
    # listening from 15s: two failures, then success: no kill
    out = probe_outcome({"Liveness": live}, 15_000, None)
    assert out.kill_after is None and out.failures[0][3] == 2
    ready = Probe("Readiness", 5_000, 5_000, 3, 2, "refused", None)
    out = probe_outcome({"Readiness": ready}, 12_000, None)
    # ticks 6s, 11s fail; 16s and 21s succeed (successThreshold 2) -> ready at 21s
    assert out.ready_after == 21_000 and out.failures[0][3] == 2

"""Crashes and restarts: requirement failures, bad commands, OOM, exits, and jobs' restart policies."""

from __future__ import annotations

from datetime import timedelta

from kubelet_fixtures import START, behaviour, configmap, container, cstatus, events, get_pod, iso, logs, pod, run

from atlas_sre.sim.kubelet import images as img

APP = "example.io/shop/checkout:2.1"
REG = {
    APP: behaviour(
        listen=[{"port": 8080}], health={"path": "/health"},
        logs={"startup": ["checkout starting in {namespace}/{pod}"], "ready": "listening on :{port}"},
        requires=[{"env": "DATABASE_URL", "matches": "^postgres://", "exitCode": 3,
                   "log": "FATAL {env} must be a postgres URL, got '{value}'"}],
    ),
}
GOOD_ENV = [{"name": "DATABASE_URL", "valueFrom": {"configMapKeyRef": {"name": "db", "key": "url"}}}]


def test_requirement_crash_loop_over_40_minutes() -> None:
    """Hand-computed timeline (ms from pod creation), the process exits 1s after it starts.

    sandbox 1000; pull p = pull_ms(APP); created +60; started s1 = 1000+p+120; exits f1 = s1+1000.
    Restart 1 is immediate (first failure): next start = f1 + 1000 (PLEG) + 120 (create).
    After crash k>=2 the wait is the back-off rounded up to the 12.5s sync: 10s->12.5s, 20s->25s,
    40s->50s, 80s->87.5s, 160s->162.5s, 300s->300s. Instance n+1 starts at f_n + 1000 + wait + 120:
      s2 = f1+1120, s3 = f2+13620, s4 = f3+26120, s5 = f4+51120, s6 = f5+88620, s7 = f6+163620,
      then every 302120 (1000 run + 1000 PLEG + 300000 + 120).
    So s7 = (1000+p+120) + 6*1000 + 1120+13620+26120+51120+88620+163620 = 351340 + p.
    40 minutes = 2400000 ms: (2400000 - s7) / 302120 = 6.7.. -> instances 8..13 start, 13 in all,
    restartCount 12; the 13th died at s13+1000 and its next start would be 300s later: CrashLoopBackOff.
    """
    p = img.pull_ms(APP)
    s7 = 351340 + p
    s13 = s7 + 6 * 302120
    assert s13 + 1000 + 1000 + 300000 > 2_400_000 > s13 + 1000
    objs = [pod("checkout", [container("checkout", APP, env=GOOD_ENV)]),
            configmap("db", {"url": "mysql://db:3306"})]
    state = run(objs, REG, minutes=40)
    cs = cstatus(state, "checkout")
    uid = get_pod(state, "checkout")["metadata"]["uid"]
    assert cs["restartCount"] == 12
    assert cs["state"] == {"waiting": {
        "reason": "CrashLoopBackOff",
        "message": f"back-off 5m0s restarting failed container=checkout pod=checkout_shop({uid})"}}
    last = cs["lastState"]["terminated"]
    assert last["exitCode"] == 3 and last["reason"] == "Error"
    assert last["startedAt"] == iso(START + timedelta(milliseconds=s13))
    assert last["finishedAt"] == iso(START + timedelta(milliseconds=s13 + 1000))
    assert last["containerID"] == cs["containerID"]
    assert cs["ready"] is False and cs["started"] is False
    assert get_pod(state, "checkout")["status"]["phase"] == "Running"
    # the last instance's own words, served for both `logs` and `logs --previous`
    assert logs(state, "checkout", "checkout", previous=True) == [
        "checkout starting in shop/checkout", "FATAL DATABASE_URL must be a postgres URL, got 'mysql://db:3306'"]
    assert logs(state, "checkout", "checkout") is None
    ev = events(state, "checkout")
    backoff = ev[("BackOff", f"Back-off restarting failed container checkout in pod checkout_shop({uid})")]
    assert backoff["type"] == "Warning" and backoff["count"] > 25


def test_requirement_met_runs_and_logs_ready() -> None:
    objs = [pod("checkout", [container("checkout", APP, env=GOOD_ENV)]),
            configmap("db", {"url": "postgres://db:5432/shop"})]
    state = run(objs, REG, minutes=40)
    cs = cstatus(state, "checkout")
    assert "running" in cs["state"] and cs["restartCount"] == 0 and cs["ready"] is True
    assert logs(state, "checkout", "checkout") == ["checkout starting in shop/checkout", "listening on :8080"]
    assert logs(state, "checkout", "checkout", previous=True) is None
    assert state.pod_usage[("shop", "checkout")]["checkout"].memory_mi == 64


def test_first_crash_shows_terminated_until_the_next_sync() -> None:
    # s1 = 1000+p+120, f1 = s1+1000; restart 1 at f1+1000+120, dies at f2 = s2+1000; back-off 10s is
    # re-checked 12.5s later, so between f2 and f2+1000+12500 the status still shows the terminated run.
    p = img.pull_ms(APP)
    f2 = 1000 + p + 120 + 1000 + 1120 + 1000
    objs = [pod("checkout", [container("checkout", APP)])]
    state = run(objs, REG, minutes=(f2 + 5000) / 60_000)
    cs = cstatus(state, "checkout")
    assert cs["restartCount"] == 1
    assert cs["state"]["terminated"]["reason"] == "Error"
    assert cs["lastState"]["terminated"]["exitCode"] == 3
    assert logs(state, "checkout", "checkout")[-1] == "FATAL DATABASE_URL must be a postgres URL, got ''"


def test_command_not_in_image_is_start_error() -> None:
    objs = [pod("checkout", [container("checkout", APP, command=["checkout-server", "--port=8080"])])]
    state = run(objs, REG, minutes=30)
    cs = cstatus(state, "checkout")
    message = ("failed to create containerd task: failed to create shim task: OCI runtime create failed: "
               'runc create failed: unable to start container process: exec: "checkout-server": '
               "executable file not found in $PATH: unknown")
    last = cs["lastState"]["terminated"]
    assert last["reason"] == "StartError" and last["exitCode"] == 128 and last["message"] == message
    assert last["startedAt"] == "1970-01-01T00:00:00Z"
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff" and cs["restartCount"] >= 5
    ev = events(state, "checkout")
    assert ev[("Failed", f"Error: {message}")]["type"] == "Warning"
    assert ("Started", "Started container checkout") not in ev
    assert logs(state, "checkout", "checkout", previous=True) == []  # created, never ran: an empty log


def test_command_in_image_starts() -> None:
    reg = {APP: behaviour(entrypoint=["/app/checkout"], binaries=["/bin/sh"])}
    objs = [pod("a", [container("c", APP, command=["/bin/sh", "-c", "exec /app/checkout"])]),
            pod("b", [container("c", APP, command=["checkout"])])]
    state = run(objs, reg, minutes=5)
    assert "running" in cstatus(state, "a")["state"] and "running" in cstatus(state, "b")["state"]


def test_memory_above_limit_is_oom_killed_after_startup() -> None:
    reg = {APP: behaviour(usage={"memoryMi": 300}, startupSeconds=4)}
    objs = [pod("checkout", [container("checkout", APP, resources={"limits": {"memory": "256Mi"}})])]
    state = run(objs, reg, minutes=20)
    cs = cstatus(state, "checkout")
    last = cs["lastState"]["terminated"]
    assert last["reason"] == "OOMKilled" and last["exitCode"] == 137
    assert _seconds(last["finishedAt"]) - _seconds(last["startedAt"]) in (3, 4, 5)
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert ("shop", "checkout") not in state.pod_usage


def test_memory_leak_is_oom_killed_when_it_crosses_the_limit() -> None:
    # 100Mi + 10Mi/min against 200Mi: killed 10 minutes after start, restarted at once (first crash)
    reg = {APP: behaviour(usage={"memoryMi": 100, "memoryGrowthMiPerMin": 10})}
    objs = [pod("checkout", [container("checkout", APP, resources={"limits": {"memory": "200Mi"}})])]
    state = run(objs, reg, minutes=14)
    cs = cstatus(state, "checkout")
    p = img.pull_ms(APP)
    s1 = 1000 + p + 120
    last = cs["lastState"]["terminated"]
    assert last["reason"] == "OOMKilled"
    assert last["finishedAt"] == iso(START + timedelta(milliseconds=s1 + 600_000))
    assert cs["restartCount"] == 1 and "running" in cs["state"]
    s2 = s1 + 600_000 + 1000 + 120
    grown = 100 + 10 * (14 * 60_000 - s2) / 60_000
    assert state.pod_usage[("shop", "checkout")]["checkout"].memory_mi == round(grown)


def test_exit_zero_under_always_restarts_as_completed() -> None:
    reg = {APP: behaviour(exit={"code": 0, "afterSeconds": 5, "log": "batch done"})}
    state = run([pod("checkout", [container("checkout", APP)])], reg, minutes=10)
    cs = cstatus(state, "checkout")
    assert cs["lastState"]["terminated"]["reason"] == "Completed"
    assert cs["lastState"]["terminated"]["exitCode"] == 0
    assert cs["restartCount"] >= 3


def test_job_pods_follow_never_and_on_failure() -> None:
    ok = {APP: behaviour(exit={"code": 0, "afterSeconds": 30, "log": "migrated 12 tables"})}
    state = run([pod("migrate", [container("migrate", APP)], restart_policy="Never")], ok, minutes=5)
    p = get_pod(state, "migrate")
    assert p["status"]["phase"] == "Succeeded"
    assert cstatus(state, "migrate")["state"]["terminated"]["reason"] == "Completed"
    ready = next(c for c in p["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False" and ready["reason"] == "PodCompleted"
    assert logs(state, "migrate", "migrate") == ["migrated 12 tables"]

    bad = {APP: behaviour(exit={"code": 2, "afterSeconds": 3, "log": "cannot reach db"})}
    state = run([pod("migrate", [container("migrate", APP)], restart_policy="Never")], bad, minutes=5)
    assert get_pod(state, "migrate")["status"]["phase"] == "Failed"
    ready = next(c for c in get_pod(state, "migrate")["status"]["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "PodFailed"
    assert cstatus(state, "migrate")["state"]["terminated"]["exitCode"] == 2
    assert cstatus(state, "migrate")["restartCount"] == 0

    state = run([pod("migrate", [container("migrate", APP)], restart_policy="OnFailure")], bad, minutes=5)
    assert get_pod(state, "migrate")["status"]["phase"] == "Running"
    assert cstatus(state, "migrate")["restartCount"] >= 3


def _seconds(stamp: str) -> int:
    return int(stamp[11:13]) * 3600 + int(stamp[14:16]) * 60 + int(stamp[17:19])

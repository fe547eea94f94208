"""Ages in server-side Tables are measured when served, so every view agrees and advances.

A live server (clock anchored to the wall clock) builds each Table once with age placeholders and
fills them in per request; `kubectl get` then agrees with the ages kubectl computes itself
(`kubectl events`, `describe`). A server anchored to a fixed instant stays byte-identical.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from kubectl_env import NS, run_kubectl, sample_state

from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.api.status import dumps
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.printers.ages import MARK, AgeTemplate, LiveNow, elapsed
from atlas_sre.sim.printers.table import to_table

kubectl_only = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")

T0 = parse_time("2026-11-26T10:00:00Z")
_MD = {"namespace": "shop", "creationTimestamp": "2026-11-26T08:00:00Z", "uid": "u1"}
OBJECTS = {
    "Pod": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", **_MD},
            "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "c", "ready": True, "restartCount": 28, "state": {"running": {}},
                 "lastState": {"terminated": {"finishedAt": "2026-11-26T09:56:42Z"}}}]}},
    "Event": {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "p.18", **_MD},
              "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "BackOff", "type": "Warning",
              "firstTimestamp": "2026-11-26T09:20:00Z", "lastTimestamp": "2026-11-26T09:55:01Z", "count": 9},
    "Job": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", **_MD},
            "spec": {"completions": 1}, "status": {"startTime": "2026-11-26T09:58:30Z", "active": 1}},
    "CronJob": {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cj", **_MD},
                "spec": {"schedule": "*/5 * * * *"}, "status": {"lastScheduleTime": "2026-11-26T09:55:00Z"}},
    "VirtualService": {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                       "metadata": {"name": "vs", **_MD}, "spec": {"hosts": ["web"]}},
}


def test_elapsed_is_a_placeholder_only_for_live_now() -> None:
    start = parse_time("2026-11-26T09:52:00Z")
    assert elapsed(start, T0) == "8m"
    token = elapsed(start, LiveNow.of(T0))
    assert token.startswith(MARK) and token.endswith(MARK)
    template = AgeTemplate.parse(dumps({"cells": [f"28 ({token} ago)"]}))
    assert template is not None
    assert template.render(T0 + timedelta(minutes=8)) == b'{"cells":["28 (16m ago)"]}'
    assert AgeTemplate.parse(b'{"cells":["120m"]}') is None


@pytest.mark.parametrize("kind", sorted(OBJECTS))
@pytest.mark.parametrize("later", [timedelta(0), timedelta(seconds=37), timedelta(minutes=8), timedelta(hours=30)])
def test_rendered_template_equals_a_table_built_at_that_instant(kind: str, later: timedelta) -> None:
    live = AgeTemplate.parse(dumps(to_table(kind, [OBJECTS[kind]], LiveNow.of(T0))))
    assert live is not None, f"{kind}: no age cell was deferred"
    assert live.render(T0 + later) == dumps(to_table(kind, [OBJECTS[kind]], T0 + later))


def test_template_renders_each_second_once() -> None:
    template = AgeTemplate.parse(dumps(to_table("Pod", [OBJECTS["Pod"]], LiveNow.of(T0))))
    assert template is not None
    first = template.render(T0 + timedelta(seconds=5, milliseconds=100))
    assert template.render(T0 + timedelta(seconds=5, milliseconds=900)) is first
    assert template.render(T0 + timedelta(seconds=6)) != first


def _cells(kubeconfig: Path, home: Path, *args: str) -> list[list[str]]:
    out = run_kubectl(kubeconfig, *args, env_home=home)
    assert out.returncode == 0, out.stderr
    return [re.split(r"\s{2,}", line.strip()) for line in out.stdout.splitlines()[1:]]


def _seconds(age: str) -> int:
    """`6m34s`, `125m`, `64s` → seconds (HumanDuration's units)."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([dhms])", age))


@kubectl_only
def test_live_tables_agree_with_client_side_ages_and_advance(tmp_path: Path) -> None:
    # Observed 5m30s ago: a live server's tables must be 5m30s older than the frozen ones.
    anchor = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5, seconds=30)
    with SimServer(sample_state(anchor), namespace=NS, live=True) as server:
        kc = server.kubeconfig_path
        pods = {row[0]: row for row in _cells(kc, tmp_path, "get", "pods")}
        assert pods["web-5d9c7b8f6c-abcde"][4] == "125m"  # 120m at observation, + 5m30s
        restarts = re.fullmatch(r"7 \((\S+) ago\)", pods["web-5d9c7b8f6c-crash"][3])
        assert restarts is not None and abs(_seconds(restarts[1]) - (120 + 330)) <= 2
        server_side = {row[3]: row[0] for row in _cells(kc, tmp_path, "get", "events")}
        client_side = {row[-2]: row[0] for row in _cells(kc, tmp_path, "events")}
        crash_server = server_side["pod/web-5d9c7b8f6c-crash"]
        crash_client = client_side["Pod/web-5d9c7b8f6c-crash"].split(" ")[0]  # "6m34s (x31 over 45m)"
        assert abs(_seconds(crash_server) - _seconds(crash_client)) <= 2, (crash_server, crash_client)
        assert abs(_seconds(crash_server) - (64 + 330)) <= 2
        time.sleep(2.2)  # the cached table must not keep the instant of the first request
        again = {row[0]: row for row in _cells(kc, tmp_path, "get", "pods")}
        later = re.fullmatch(r"7 \((\S+) ago\)", again["web-5d9c7b8f6c-crash"][3])
        assert later is not None and _seconds(later[1]) >= _seconds(restarts[1]) + 2


@kubectl_only
def test_fixed_anchor_stays_frozen_and_byte_identical(tmp_path: Path) -> None:
    with SimServer(sample_state(), namespace=NS) as server:
        first = run_kubectl(server.kubeconfig_path, "get", "pods", "-o", "json", env_home=tmp_path).stdout
        table = run_kubectl(server.kubeconfig_path, "get", "pods", env_home=tmp_path).stdout
        time.sleep(1.1)
        assert run_kubectl(server.kubeconfig_path, "get", "pods", env_home=tmp_path).stdout == table
        assert "120m" in table and "7 (2m ago)" in table
        assert json.loads(first)["items"]


def test_wall_clock_anchoring_marks_the_clock_live() -> None:
    from atlas_sre.scenarios.serving import build_state
    from atlas_sre.sim.api.store import Store

    live, _ = build_state("image-not-found")
    fixed, _ = build_state("image-not-found", "2026-11-26T10:00:00Z")
    assert live.clock.live and not fixed.clock.live
    assert Store(live).live and not Store(fixed).live and Store(fixed, live=True).live
    assert Store(fixed).now == fixed.clock.now  # frozen at the observation instant
    wall = datetime.now(timezone.utc)
    assert abs((Store(live).now - wall).total_seconds()) < 5  # the present is the wall clock

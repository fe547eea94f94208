"""Ages agree across views and advance with the wall clock, as on a real cluster.

Server-side Tables (`get`) and client-side ages (`describe`, `kubectl events`) are computed by
different programs; a user comparing them, or re-running a command, must see one clock. The
advance test runs first: it leaves the served scenario seconds old, so a Table clock frozen at
start-up shows in the agreement test too.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import Any

import pytest
from compat_corpus import scenario_aliases
from compat_serving import FEATURE_PROPERTY, Clusters, Served
from kubectl_env import KUBECTL

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")]
CRASH = scenario_aliases()["crash"]
UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
GET_EVENT = re.compile(r"^(\S+)\s+(?:Normal|Warning)\s+(\S+)\s+(\S+)\s", re.MULTILINE)
KUBECTL_EVENT = re.compile(r"^(\S+)(?: \(x\d+ over \S+\))?\s+(?:Normal|Warning)\s+(\S+)\s+(\S+)\s", re.MULTILINE)
RESTARTS_AGO = re.compile(r"^(checkout-\S+)\s+\S+\s+\S+\s+\d+ \((\S+) ago\)", re.MULTILINE)


def seconds(age: str) -> tuple[int, int]:
    """HumanDuration ("4m59s", "120m", "2d14h") -> (seconds, precision in seconds).

    Below 10 minutes kubectl prints seconds and drops a zero seconds part ("5m" is 300 s exactly).
    """
    parts = re.findall(r"(\d+)([dhms])", age)
    assert parts and "".join(n + u for n, u in parts) == age, f"not a kubectl age: {age!r}"
    total = sum(int(n) * UNITS[u] for n, u in parts)
    return total, 1 if total < 600 else UNITS[parts[-1][1]]


def close(a: str, b: str, slack: int = 2) -> bool:
    (x, px), (y, py) = seconds(a), seconds(b)
    return abs(x - y) <= max(px, py, slack)


def event_ages(served: Served) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """(reason, object) -> LAST SEEN, from `get events` (server Table) and `kubectl events` (client)."""
    table = served.kubectl("get", "events", "-n", "shop", "--no-headers").stdout
    client = served.kubectl("events", "-n", "shop").stdout
    return ({(r, o.lower()): age for age, r, o in GET_EVENT.findall(table)},
            {(r, o.lower()): age for age, r, o in KUBECTL_EVENT.findall(client)})


def test_ages_advance_with_the_wall_clock(clusters: Clusters, record_property: Any) -> None:
    record_property(FEATURE_PROPERTY, "ages")
    served = clusters.get(CRASH)
    before, _ = event_ages(served)
    pods_before = dict(RESTARTS_AGO.findall(served.kubectl("get", "pods", "-n", "shop").stdout))
    time.sleep(3)
    after, _ = event_ages(served)
    pods_after = dict(RESTARTS_AGO.findall(served.kubectl("get", "pods", "-n", "shop").stdout))
    fine = {k: v for k, v in before.items() if seconds(v)[1] == 1}
    assert fine, f"no event young enough for second precision: {before}"
    for key, age in fine.items():
        assert seconds(after[key])[0] >= seconds(age)[0] + 2, f"{key}: LAST SEEN stayed {age} -> {after[key]}"
    for pod, ago in pods_before.items():
        if seconds(ago)[1] == 1:
            assert seconds(pods_after[pod])[0] >= seconds(ago)[0] + 2, f"{pod}: RESTARTS stayed ({ago} ago)"


def test_event_and_restart_ages_agree_across_views(clusters: Clusters, record_property: Any) -> None:
    record_property(FEATURE_PROPERTY, "ages")
    served = clusters.get(CRASH)
    table, client = event_ages(served)
    assert table and set(table) == set(client)
    for key, age in table.items():
        assert close(age, client[key]), f"{key}: get events says {age}, kubectl events says {client[key]}"
    pods = served.kubectl("get", "pods", "-n", "shop", "-l", "app=checkout", "--no-headers").stdout
    for pod, ago in RESTARTS_AGO.findall(pods):
        described = served.kubectl("describe", "pod", pod, "-n", "shop").stdout
        finished = re.search(r"Last State:\s+Terminated\n(?:\s+\w.*\n)*?\s+Finished:\s+(.+)\n", described)
        assert finished, described
        at = datetime.strptime(finished.group(1).strip(), "%a, %d %b %Y %H:%M:%S %z")
        since = int((datetime.now(timezone.utc) - at).total_seconds())
        assert close(ago, f"{since}s"), f"{pod}: RESTARTS says ({ago} ago), describe says finished {since}s ago"

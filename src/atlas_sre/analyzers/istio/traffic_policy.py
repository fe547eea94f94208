"""ATL122 (a connection pool too small for any real load) and ATL123 (outlier detection that can
eject every host) in DestinationRules.

Why: circuit-breaker settings copied from a demo (`maxConnections: 1`) trip under normal load
(`503 UO`), and ejecting 100% of hosts after one error leaves no healthy upstream (`503 UH`).
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import spec
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME_POOL = "traffic-policy"
POOL_MINIMUM = 2  # a limit below this lets one request at a time through


def _pool_limits(policy: dict) -> list[str]:
    pool = policy.get("connectionPool") or {}
    limits = {
        "tcp.maxConnections": (pool.get("tcp") or {}).get("maxConnections"),
        "http.http1MaxPendingRequests": (pool.get("http") or {}).get("http1MaxPendingRequests"),
        "http.http2MaxRequests": (pool.get("http") or {}).get("http2MaxRequests"),
    }
    return [f"{k}={v}" for k, v in limits.items() if isinstance(v, int) and 0 < v < POOL_MINIMUM]


def _ejects_all(policy: dict) -> str | None:
    od = policy.get("outlierDetection") or {}
    if not od:
        return None
    max_pct = int(od.get("maxEjectionPercent", 10))
    errors = od.get(
        "consecutive5xxErrors", od.get("consecutiveErrors", od.get("consecutiveGatewayErrors", 5))
    )
    if max_pct >= 100 and int(errors or 0) <= 1:
        return f"maxEjectionPercent={max_pct}, consecutive errors before ejection={errors}"
    return None


def _policies(dr: Obj) -> list[tuple[str, dict]]:
    s = spec(dr)
    out = [("trafficPolicy", s.get("trafficPolicy") or {})]
    out += [(f"subset {sub.get('name')}", sub.get("trafficPolicy") or {}) for sub in s.get("subsets") or []]
    return out


class TrafficPolicy(Check, name=NAME_POOL, codes=("ATL122", "ATL123"), kind="DestinationRule"):
    """DestinationRule connection pools and outlier detection must leave room for normal load."""

    def check(self, snap: Snapshot, dr: Obj) -> Iterator[Finding]:
        host = spec(dr).get("host")
        for where, policy in _policies(dr):
            tiny = _pool_limits(policy)
            if tiny:
                yield self.finding(
                    "ATL122", Level.WARNING, dr,
                    f"{where}.connectionPool allows almost no concurrency to {host} "
                    f"({', '.join(tiny)}); normal load overflows it (503 UO, circuit breaking).",
                )
            eject = _ejects_all(policy)
            if eject:
                yield self.finding(
                    "ATL123", Level.WARNING, dr,
                    f"{where}.outlierDetection can eject every host of {host} ({eject}); "
                    "one bad response per pod leaves no healthy upstream (503 UH).",
                )

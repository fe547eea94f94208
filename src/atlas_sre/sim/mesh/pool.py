"""Circuit breaking, outlier ejection and retries as closed-form rates (no sampling).

Connection pool (`DestinationRule.trafficPolicy.connectionPool`): each client pod's Envoy keeps its
own pool per upstream cluster. Requests arrive at λ = (offered rps ÷ client pods) and hold a
connection for the upstream latency W, so the offered concurrency is a = λ·W (Little's law). With
HTTP/1.1 a connection carries one request at a time: c = min(tcp.maxConnections,
http.http2MaxRequests) requests run, `http1MaxPendingRequests` more may wait, the rest overflow.
The overflow share is the blocking probability of an M/M/c/K queue (K = c + pending): it is ~0
far below capacity and rises smoothly as a approaches and passes c. Overflowed requests get
`503 UO upstream_reset_before_response_started{overflow}`.

Outlier detection: a host is ejected after k consecutive 5xx (`consecutive5xxErrors`, default 5,
or `consecutiveGatewayErrors`) for `baseEjectionTime` (default 30s). With a per-request 5xx
probability p and h requests/s to the host, a run of k failures takes E = (1-p^k)/((1-p)p^k)
requests on average (k when p = 1), so ejections happen at r = h/E per second and the host is out
a share e = rT/(1+rT) of the time. Istio sets Envoy's panic threshold to 0, so when every host is
ejected (allowed when max(1, ⌊N·maxEjectionPercent/100⌋) ≥ N) requests fail with `503 UH`.

Retries (VirtualService `retries`, Istio default 2 attempts on connect-failure, refused-stream,
unavailable, cancelled, retriable-status-codes=503): each try picks a host independently; a
request ends on the first non-retriable answer or after the last retriable failure (flag URX).
`perTryTimeout` caps each try: a try still running then is reset (`504 UT
upstream_per_try_timeout`), and retried when `retryOn` has `5xx`, `gateway-error` or `reset` (a
read timeout counts as "no response"). Numbers in `retryOn` (`503`) are retriable status codes,
as Istio translates them. The route `timeout` bounds all tries together.
"""

from __future__ import annotations

import math
import re
from typing import Any

from atlas_sre.sim.mesh.model import DEFAULT_RETRIES, Response

_BIG = 2**32 - 1
_DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"


def duration_ms(value: Any) -> float | None:
    """An Istio duration ("1.5s", "500ms", "2m", "1h") in milliseconds; None when unset/invalid."""
    if value in (None, ""):
        return None
    m = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s|m|h)?\s*", str(value))
    if not m:
        return None
    scale = {"ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}[m.group(2) or "s"]
    return float(m.group(1)) * scale


def blocking(a: float, c: int, k: int) -> float:
    """M/M/c/K blocking probability for offered load `a` (Erlang), stable in log space."""
    if a <= 0 or c <= 0:
        return 0.0 if a <= 0 else 1.0
    if k > a * 20 + 200:
        return 0.0
    logs = []
    for n in range(k + 1):
        if n <= c:
            logs.append(n * math.log(a) - math.lgamma(n + 1))
        else:
            logs.append(n * math.log(a) - math.lgamma(c + 1) - (n - c) * math.log(c))
    top = max(logs)
    total = sum(math.exp(x - top) for x in logs)
    return math.exp(logs[-1] - top) / total


def overflow_share(pool: dict[str, Any] | None, rps_per_pod: float, latency_ms: float) -> float:
    """Share of requests a client pod's pool rejects with UO."""
    if not pool or rps_per_pod <= 0:
        return 0.0
    tcp, http = pool.get("tcp") or {}, pool.get("http") or {}
    c = min(int(tcp.get("maxConnections") or _BIG), int(http.get("http2MaxRequests") or _BIG))
    pending = int(http.get("http1MaxPendingRequests") or _BIG)
    if c >= _BIG:
        return 0.0
    return blocking(rps_per_pod * latency_ms / 1000.0, c, min(c + pending, _BIG))


def ejection_share(outlier: dict[str, Any] | None, p: float, host_rps: float) -> float:
    """Share of time one host is ejected, given its 5xx probability and request rate."""
    if not outlier or p <= 0 or host_rps <= 0:
        return 0.0
    k = outlier.get("consecutive5xxErrors", outlier.get("consecutiveErrors"))
    k = int(outlier.get("consecutiveGatewayErrors") or 5) if k is None else int(k)
    if k <= 0:
        return 0.0
    expected = float(k) if p >= 1 else (1 - p**k) / ((1 - p) * p**k)
    hold = (duration_ms(outlier.get("baseEjectionTime")) or 30_000.0) / 1000.0
    r = host_rps / expected
    return r * hold / (1 + r * hold)


def all_ejected_allowed(outlier: dict[str, Any] | None, hosts: int) -> bool:
    """Envoy ejects at least one host, at most maxEjectionPercent (default 10%) of them."""
    pct = float((outlier or {}).get("maxEjectionPercent", 10))
    return max(1, math.floor(hosts * pct / 100.0)) >= hosts


def retry_policy(route: dict[str, Any] | None) -> tuple[int, set[str]]:
    """(retries, retryOn conditions) for a route; TCP and passthrough routes pass None → none."""
    if route is None:
        return 0, set()
    spec = route.get("retries")
    if spec is None:
        return DEFAULT_RETRIES, set(_DEFAULT_RETRY_ON.split(","))
    attempts = int(spec.get("attempts") or 0)
    return attempts, set(str(spec.get("retryOn") or _DEFAULT_RETRY_ON).replace(" ", "").split(","))


def per_try_ms(route: dict[str, Any] | None) -> float | None:
    """The route's `retries.perTryTimeout` in ms (None: each try may use the whole route timeout)."""
    return duration_ms(((route or {}).get("retries") or {}).get("perTryTimeout"))


def retriable(resp: Response, conditions: set[str]) -> bool:
    """Whether Envoy retries this answer under `conditions`."""
    if resp.status == 0 and not resp.flags.startswith("U"):
        return False
    if resp.flags == "UT":  # a per-try timeout: the upstream did not answer in time
        return bool(conditions & {"5xx", "gateway-error", "reset"})
    if resp.flags == "-" and str(resp.status) in conditions:
        return True
    connect = resp.flags in ("UF",)
    if connect and conditions & {"connect-failure", "5xx", "gateway-error"}:
        return True
    if resp.flags == "UC" and conditions & {"reset", "5xx"}:
        return True
    if resp.flags != "-":
        return False
    if "5xx" in conditions and resp.status >= 500:
        return True
    if "gateway-error" in conditions and resp.status in (502, 503, 504):
        return True
    return "retriable-status-codes" in conditions and resp.status == 503

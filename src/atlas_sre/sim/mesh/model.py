"""The vocabulary of the traffic engine: responses, request classes and the ledger of what happened.

Traffic is evaluated as *request classes* with rates, never as sampled requests: a hop returns a
distribution `[(fraction, Response)]`, and every observable it causes (an access-log line kind, an
app log line, a metric point) is booked in a `Ledger` with the rate at which it happens. Logs are
sampled from the ledger afterwards, deterministically, so the numbers (metrics, alerts) are exact
and the text (logs) is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# Bodies Envoy writes for its own local replies; their lengths become BYTES_SENT.
BODY_NO_HEALTHY = "no healthy upstream"
BODY_RBAC = "RBAC: access denied"
BODY_TIMEOUT = "upstream request timeout"
BODY_FAULT = "fault filter abort"
BODY_RESET = "upstream connect error or disconnect/reset before headers. reset reason: "
BODY_RETRIED = "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: "

ENVOY_CONNECT_TIMEOUT_MS = 10_000.0  # Istio's default cluster connectTimeout
DEFAULT_RETRIES = 2  # Istio's default route retry policy: 2 attempts on connect-failure/503...
RETRY_BACKOFF_MS = 25.0
SIDECAR_OVERHEAD_MS = 0.5
BLACK_HOLE = "BlackHoleCluster"  # the cluster (and metric destination) of requests a Sidecar resource blocks


@dataclass(frozen=True)
class Response:
    """What one side sees for one request class.

    `status` 0 means no HTTP response at all (a transport error the app reports as `error`).
    `flags`/`details` are the *client-side* Envoy's RESPONSE_FLAGS and RESPONSE_CODE_DETAILS.
    `dest_5xx` marks failures that count against the upstream host for outlier detection.
    """

    status: int
    flags: str = "-"
    details: str = "via_upstream"
    body: str = ""
    latency_ms: float = 0.0
    error: str = ""
    transport: str = "-"  # UPSTREAM_TRANSPORT_FAILURE_REASON
    dest_5xx: bool = False
    service_ms: float | None = None  # X-ENVOY-UPSTREAM-SERVICE-TIME: the upstream's own time

    @property
    def ok(self) -> bool:
        """A successful answer (2xx/3xx)."""
        return 200 <= self.status < 400

    def later(self, ms: float, flag: str = "") -> Response:
        """The same response, `ms` later (optionally with one more response flag)."""
        flags = self.flags if not flag else (flag if self.flags == "-" else f"{self.flags},{flag}")
        return replace(self, latency_ms=self.latency_ms + ms, flags=flags)


Dist = list[tuple[float, Response]]


@dataclass(frozen=True)
class ProxyLine:
    """One kind of istio-proxy access-log line written by the pods of `instance`.

    Address fields may hold `{self}` (the logging pod's IP), `{peer}` (an IP of `peer`'s pods) and
    `{eph}` (an ephemeral port); the renderer fills them per line so IPs are real pod IPs.
    """

    instance: str
    method: str
    path: str
    protocol: str
    code: int
    flags: str
    details: str
    term: str
    transport: str
    received: int
    sent: int
    duration: float
    upstream_time: str
    xff: str
    agent: str
    authority: str
    upstream_host: str
    cluster: str
    upstream_local: str
    downstream_local: str
    downstream_remote: str
    sni: str
    route: str
    peer: str = ""
    tcp: bool = False


@dataclass(frozen=True)
class AppLine:
    """One kind of line an application container writes (its request log or a dependency error)."""

    instance: str
    container: str
    text: str


@dataclass(frozen=True)
class Metric:
    """One `istio_requests_total`-like series point (or a TCP connection series when `tcp`)."""

    source_workload: str
    source_namespace: str
    destination_service: str
    destination_service_name: str
    destination_service_namespace: str
    destination_workload: str
    destination_workload_namespace: str
    response_code: int
    response_flags: str
    reporter: str
    latency_ms: float
    tcp: bool = False


@dataclass(frozen=True)
class EntryLine:
    """What the traffic source itself observed for one entry point (the user-visible answer)."""

    entry: str
    status: int
    flags: str
    latency_ms: float


@dataclass(frozen=True)
class Flow:
    """Requests a client instance offers to one Envoy cluster (feeds the connection-pool model)."""

    client: str
    cluster: str


@dataclass(frozen=True)
class Load:
    """Requests an instance's container handles (drives extra CPU in `kubectl top`)."""

    instance: str
    container: str


Record = ProxyLine | AppLine | Metric | EntryLine | Flow | Load


@dataclass
class Ledger:
    """Rates (per second) of everything observable, keyed by record; merging adds rates."""

    rates: dict[Record, float] = field(default_factory=dict)

    def add(self, record: Record, rate: float) -> None:
        """Book `record` happening `rate` times per second."""
        if rate > 0:
            self.rates[record] = self.rates.get(record, 0.0) + rate

    def merge(self, other: Ledger, scale: float = 1.0) -> None:
        """Add another ledger, every rate multiplied by `scale`."""
        if scale <= 0:
            return
        for record, rate in other.rates.items():
            self.rates[record] = self.rates.get(record, 0.0) + rate * scale


@dataclass
class Branch:
    """One request class out of a hop: its share, the answer the caller sees, and what it caused."""

    fraction: float
    response: Response
    ledger: Ledger = field(default_factory=Ledger)


def compress(dist: Dist, limit: int = 16) -> Dist:
    """Merge equal responses and keep at most `limit` latency points per response kind.

    Sequential calls convolve latency distributions; without a bound the number of classes grows
    with the product of branches. Nearby latencies of the same response kind are merged into their
    weighted mean, which keeps p50/p99 close while bounding the work.
    """
    merged: dict[Response, float] = {}
    for frac, resp in dist:
        if frac > 0:
            key = replace(resp, latency_ms=round(resp.latency_ms, 1))
            merged[key] = merged.get(key, 0.0) + frac
    groups: dict[Response, list[tuple[float, float]]] = {}
    for resp, frac in merged.items():
        groups.setdefault(replace(resp, latency_ms=0.0), []).append((resp.latency_ms, frac))
    out: Dist = []
    for kind, points in groups.items():
        points.sort()
        while len(points) > limit:
            i = min(range(len(points) - 1), key=lambda j: points[j + 1][0] - points[j][0])
            (l1, f1), (l2, f2) = points[i], points[i + 1]
            points[i : i + 2] = [((l1 * f1 + l2 * f2) / (f1 + f2), f1 + f2)]
        out.extend((frac, replace(kind, latency_ms=lat)) for lat, frac in points)
    return out

"""Log text from the traffic ledger: Envoy access logs in Istio's default format, and app lines.

Istio's default TEXT access-log format (`EnvoyTextLogFormat`, meshConfig.accessLogFormat unset):

    [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
    %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
    "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
    %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
    "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW%
    %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%
    %REQUESTED_SERVER_NAME% %ROUTE_NAME%

(one line; TCP connections print `"- - -"` and `-` for the HTTP-only operators).

Sampling: each container stream gets at most `MAX_LINES` lines over the last `WINDOW` before the
observation (fewer when its request rate is low; in large clusters all streams share `TOTAL_LINES`,
but each keeps at least `MIN_LINES`), split over the record kinds in proportion to
their rates (largest remainder), at seeded-random times. Request ids, ephemeral ports and the
choice of peer pod are seeded per stream, so the same spec yields the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from atlas_sre.sim.clock import SimClock, parse_time
from atlas_sre.sim.ids import digest
from atlas_sre.sim.kubelet.logtime import served_text
from atlas_sre.sim.mesh.model import AppLine, Ledger, ProxyLine
from atlas_sre.sim.mesh.request import EXTERNAL_IP
from atlas_sre.sim.mesh.world import PROXY, World
from atlas_sre.sim.state import ClusterState, LogKey, Obj

WINDOW = timedelta(minutes=5)
MAX_LINES = 120  # per container stream over the window
MIN_LINES = 20  # ... but large clusters share a total budget, down to this many per stream
TOTAL_LINES = 60_000


@dataclass(frozen=True)
class Period:
    """A stretch of scenario time during which one ledger describes the traffic."""

    start: datetime
    end: datetime
    ledger: Ledger


def _ms_stamp(clock: SimClock, t: datetime) -> str:
    rendered = clock.at(t)
    return rendered.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rendered.microsecond // 1000:03d}Z"


def _request_id(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _fill(text: str, rng: random.Random, self_ip: str, peer_ips: list[str]) -> str:
    """Replace `{self}`, `{peer}` (one peer pod per line) and each `{eph}` (a fresh ephemeral port)."""
    text = text.replace("{self}", self_ip)
    if "{peer}" in text:
        text = text.replace("{peer}", rng.choice(peer_ips) if peer_ips else EXTERNAL_IP)
    parts = text.split("{eph}")
    if len(parts) == 1:
        return text
    out = [parts[0]]
    for part in parts[1:]:
        out += [str(rng.randint(32768, 60999)), part]
    return "".join(out)


def format_proxy(rec: ProxyLine, clock: SimClock, end: datetime, rng: random.Random, self_ip: str,
                 peer_ips: list[str]) -> str:
    """One access-log line for `rec`, finishing at `end`."""
    jitter = rng.uniform(0.95, 1.05)  # drawn for every line so the stream's random sequence is stable
    scale = jitter if rec.duration > 2 and rec.flags == "-" and rec.code else 1.0
    duration = max(0, int(round(rec.duration * scale)))
    upstream = rec.upstream_time
    if upstream.isdigit():
        upstream = str(min(duration, int(round(int(upstream) * scale))))
    start = end - timedelta(milliseconds=duration)
    if rec.tcp:
        head, agent, rid, authority = '"- - -"', "-", "-", "-"
    else:
        head = f'"{rec.method} {rec.path} {rec.protocol}"'
        agent, rid, authority = rec.agent, _request_id(rng), rec.authority
    line = (f"[{_ms_stamp(clock, start)}] {head} {rec.code} {rec.flags} {rec.details} {rec.term} "
            f'"{rec.transport}" {rec.received} {rec.sent} {duration} {upstream} "{rec.xff}" "{agent}" '
            f'"{rid}" "{authority}" "{rec.upstream_host}" {rec.cluster} {rec.upstream_local} '
            f"{rec.downstream_local} {rec.downstream_remote} {rec.sni} {rec.route}")
    return _fill(line, rng, self_ip, peer_ips)


def _started(pod: Obj, container: str, clock: SimClock) -> datetime | None | bool:
    """When the container's current instance started (scenario time); False: not running;
    None: the pod carries no container statuses (a hand-built state) — treat as always running."""
    statuses = (pod.get("status") or {}).get("containerStatuses")
    if statuses is None:
        return None
    for cs in statuses:
        if cs.get("name") == container:
            running = (cs.get("state") or {}).get("running")
            if not running:
                return False
            return parse_time(running["startedAt"]) - clock.shift if running.get("startedAt") else None
    return False


def _apportion(n: int, weights: list[float], rng: random.Random) -> list[int]:
    total = sum(weights)
    if n <= 0 or total <= 0:
        return [0] * len(weights)
    exact = [n * w / total for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), rng.random()))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def _streams(ledger: Ledger) -> dict[tuple[str, str], list[tuple[ProxyLine | AppLine, float]]]:
    out: dict[tuple[str, str], list[tuple[ProxyLine | AppLine, float]]] = {}
    for rec, rate in ledger.rates.items():
        if isinstance(rec, ProxyLine) and rec.instance:
            out.setdefault((rec.instance, PROXY), []).append((rec, rate))
        elif isinstance(rec, AppLine):
            out.setdefault((rec.instance, rec.container), []).append((rec, rate))
    return out


def write_logs(state: ClusterState, world: World, periods: Iterable[Period], seed: int) -> None:
    """Append sampled access-log and app lines to every pod that served or sent traffic."""
    clock = state.clock
    periods = list(periods)
    span = sum((p.end - p.start).total_seconds() for p in periods) or 1.0
    by_stream: dict[tuple[str, str], list[tuple[Period, list[tuple[ProxyLine | AppLine, float]]]]] = {}
    for period in periods:
        for key, recs in _streams(period.ledger).items():
            by_stream.setdefault(key, []).append((period, recs))
    peers = {key: inst.ips for key, inst in world.instances.items()}
    streams = sum(len(world.instances[k].pods) for k, _ in by_stream if k in world.instances)
    per_stream = max(MIN_LINES, min(MAX_LINES, TOTAL_LINES // max(1, streams)))
    for (inst_key, container) in sorted(by_stream):
        inst = world.instances.get(inst_key)
        if inst is None:
            continue
        for pod in inst.pods:
            name = pod["metadata"]["name"]
            started = _started(pod, container, clock)
            if started is False:
                continue
            rng = random.Random(int.from_bytes(digest(seed, "logs", inst.namespace, name, container)[:8], "big"))
            self_ip = (pod.get("status") or {}).get("podIP") or ""
            _write_stream(state, peers, LogKey(inst.namespace, name, container), by_stream[(inst_key, container)],
                          len(inst.pods), started if isinstance(started, datetime) else None, per_stream / span,
                          rng, self_ip)


def _write_stream(state: ClusterState, peers: dict[str, list[str]], key: LogKey,
                  parts: list[tuple[Period, list[tuple[ProxyLine | AppLine, float]]]], pods: int,
                  started: datetime | None, lines_per_second: float, rng: random.Random, self_ip: str) -> None:
    clock = state.clock
    for period, recs in parts:
        start = max(period.start, started) if started else period.start
        seconds = (period.end - start).total_seconds()
        if seconds <= 0:
            continue
        rate = sum(r for _, r in recs) / pods
        budget = lines_per_second * (period.end - period.start).total_seconds()
        n = min(int(round(budget)), int(round(rate * seconds)))
        if n <= 0 and rate > 0:
            n = 1
        ordered = sorted(recs, key=lambda item: repr(item[0]))
        counts = _apportion(n, [r for _, r in ordered], rng)
        picks = [rec for (rec, _), c in zip(ordered, counts, strict=True) for _ in range(c)]
        rng.shuffle(picks)
        times = sorted(start + timedelta(seconds=rng.uniform(0, seconds)) for _ in picks)
        for t, rec in zip(times, picks, strict=True):
            if isinstance(rec, ProxyLine):
                text = format_proxy(rec, clock, t, rng, self_ip, peers.get(rec.peer, []))
            else:
                text = served_text(_fill(rec.text, rng, self_ip, []), clock, t)  # app template lines
            state.add_log(key, t, text)

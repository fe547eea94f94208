"""Startup, liveness and readiness probes against what the process really serves.

A probe's answer is derived from the container spec and the hidden behaviour: the port must be
one the process listens on (named ports resolved through `containerPort` names), the path must
be its health path, and nothing answers before `startupSeconds`. Answers are therefore "refused
until the app listens, then one fixed answer", which makes every outcome closed-form: the probe
index that first succeeds, the one where `failureThreshold` consecutive failures trip a kill,
and how many failures (Unhealthy events) happen before either. Messages are the kubelet's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atlas_sre.sim.images import ImageBehaviour

Obj = dict[str, Any]
PHASE_MS = 1000  # the prober's first tick after the container starts
NEVER = 10**15  # "beyond any horizon" for open-ended counts


@dataclass(frozen=True)
class Probe:
    """One configured probe, reduced to timing plus the two answers it can get."""

    kind: str  # "Readiness" | "Liveness" | "Startup"
    initial_ms: int
    period_ms: int
    failure_threshold: int
    success_threshold: int
    early: str | None  # failure message before the process listens (None: passes)
    steady: str | None  # failure message once it listens (None: passes)


@dataclass(frozen=True)
class ProbeOutcome:
    """What the probes do to one container instance (offsets in ms from its start)."""

    started_after: int | None  # startup probe passed (0 without one); None: never
    ready_after: int | None  # marked ready; None: never during the run
    kill_after: int | None  # liveness/startup gave up; None: never
    kill_kind: str | None  # "liveness" | "startup"
    failures: tuple[tuple[str, int, int, int], ...]  # (event message, first, period, count)


def _port(container: Obj, raw: Any) -> int | None:
    if isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit()):
        return int(raw)
    for p in container.get("ports") or []:
        if p.get("name") == raw:
            return int(p.get("containerPort", 0))
    return None


def build_probe(kind: str, spec: Obj | None, container: Obj, behaviour: ImageBehaviour, pod_ip: str) -> Probe | None:
    """A probe with its messages, or None when the container does not configure it."""
    if not spec:
        return None
    listening = {listen.port for listen in behaviour.listen}
    early: str | None
    steady: str | None
    if "exec" in spec:
        argv = (spec.get("exec") or {}).get("command") or [""]
        exe = str(argv[0])
        early = steady = None if exe in behaviour.executables() else (
            "OCI runtime exec failed: exec failed: unable to start container process: "
            f'exec: "{exe}": executable file not found in $PATH: unknown')
    elif "httpGet" in spec:
        http = spec.get("httpGet") or {}
        port = _port(container, http.get("port"))
        host = str(http.get("host") or pod_ip)
        path = str(http.get("path") or "/")
        scheme = str(http.get("scheme") or "HTTP").lower()
        early = f'Get "{scheme}://{host}:{port}{path}": dial tcp {host}:{port}: connect: connection refused'
        health = behaviour.health
        health_port = (health.port if health and health.port else
                       (behaviour.listen[0].port if behaviour.listen else None))
        if port not in listening:
            steady = early
        elif health and path.split("?", 1)[0] == health.path and port == health_port:
            steady = None
        else:
            steady = "HTTP probe failed with statuscode: 404"
    elif "tcpSocket" in spec or "grpc" in spec:
        sock = spec.get("tcpSocket") or spec.get("grpc") or {}
        port = _port(container, sock.get("port"))
        host = str(sock.get("host") or pod_ip)
        early = (f"dial tcp {host}:{port}: connect: connection refused" if "tcpSocket" in spec
                 else f'timeout: failed to connect service "{host}:{port}" within 1s')
        steady = None if port in listening else early
    else:
        return None
    return Probe(
        kind, int(spec.get("initialDelaySeconds") or 0) * 1000, int(spec.get("periodSeconds") or 10) * 1000,
        max(1, int(spec.get("failureThreshold") or 3)), max(1, int(spec.get("successThreshold") or 1)),
        early, steady,
    )


def _count_before(base: int, period: int, limit: int) -> int:
    """Ticks base + j*period strictly before `limit`."""
    return 0 if limit <= base else -(-(limit - base) // period)


def _aligned_base(probe: Probe, not_before: int) -> int:
    base = PHASE_MS + probe.initial_ms
    if base < not_before:
        base += -(-(not_before - base) // probe.period_ms) * probe.period_ms
    return base


def _gives_up(probe: Probe, n_early: int) -> int | None:
    """Index of the probe whose failure reaches the threshold, if the failures run that long."""
    if probe.steady is not None or (probe.early is not None and n_early >= probe.failure_threshold):
        return probe.failure_threshold - 1
    return None


def _failures(probe: Probe, base: int, n_early: int, limit: int) -> list[tuple[str, int, int, int]]:
    """Failed probe ticks before `limit`, as (message, first offset, period, count)."""
    n_total = _count_before(base, probe.period_ms, limit)
    out: list[tuple[str, int, int, int]] = []
    early_n = min(n_early, n_total) if probe.early is not None else 0
    if early_n:
        out.append((f"{probe.kind} probe failed: {probe.early}", base, probe.period_ms, early_n))
    if probe.steady is not None and n_total > n_early:
        out.append((f"{probe.kind} probe failed: {probe.steady}", base + n_early * probe.period_ms,
                    probe.period_ms, n_total - n_early))
    return out


def probe_outcome(
    probes: dict[str, Probe | None], listen_after: int | None, end_after: int | None
) -> ProbeOutcome:
    """Run the startup, liveness and readiness probes over one instance living until `end_after`."""
    listen = NEVER if listen_after is None else listen_after
    end = NEVER if end_after is None else end_after
    failures: list[tuple[str, int, int, int]] = []
    started: int | None = 0
    kill: int | None = None
    kill_kind: str | None = None
    startup = probes.get("Startup")
    if startup is not None:
        base = _aligned_base(startup, 0)
        n_early = _count_before(base, startup.period_ms, listen)
        give_up = _gives_up(startup, n_early)
        if give_up is not None:
            kill, kill_kind, started = base + give_up * startup.period_ms, "startup", None
        else:
            started = base + (n_early if startup.early is not None else 0) * startup.period_ms
        limit = min(end, kill + 1 if kill is not None else NEVER, started if started is not None else NEVER)
        failures += _failures(startup, base, n_early, limit)
        if started is not None and started >= end:
            started = None
    live = probes.get("Liveness")
    if live is not None and started is not None:
        base = _aligned_base(live, started)
        n_early = _count_before(base, live.period_ms, listen)
        give_up = _gives_up(live, n_early)
        if give_up is not None and base + give_up * live.period_ms < end:
            kill, kill_kind = base + give_up * live.period_ms, "liveness"
        failures += _failures(live, base, n_early, min(end, kill + 1 if kill is not None else NEVER))
    stop = min(end, kill if kill is not None else NEVER)
    ready: int | None = started
    ready_probe = probes.get("Readiness")
    if ready_probe is not None and started is not None:
        base = _aligned_base(ready_probe, started)
        n_early = _count_before(base, ready_probe.period_ms, listen) if ready_probe.early is not None else 0
        ready = None
        if ready_probe.steady is None:
            ready = base + (n_early + ready_probe.success_threshold - 1) * ready_probe.period_ms
        failures += _failures(ready_probe, base, n_early, stop)
    if ready is not None and ready >= stop:
        ready = None
    return ProbeOutcome(started, ready, kill if kill is not None and kill < end else None, kill_kind, tuple(failures))

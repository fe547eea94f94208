"""Probe faults: a readiness probe that never succeeds (pods Running but not Ready) and a liveness
probe that fails (the kubelet keeps killing a healthy process)."""

from __future__ import annotations

import random

from atlas_sre.scenarios.faults.base import Fault, FaultArgs, Impact, Parts, Ref, Signature, fault
from atlas_sre.scenarios.faults.common import behaviour, listen_port, main_container, serving_workloads

WRONG_PATHS = ["/ready", "/healthz", "/actuator/health", "/status", "/api/ready"]
NOT_READY = Signature(alerts=("KubePodNotReady",), events=("Unhealthy",), pod=("NotReady",))
RESTARTED = Signature(alerts=("KubePodCrashLooping", "KubePodNotReady"), events=("Unhealthy", "Killing"),
                      pod=("CrashLoopBackOff", "NotReady"))


class ProbeArgs(FaultArgs):
    container: str | None = None
    path: str | None = None  # default: a path the process does not serve
    port: int | None = None  # default: the port the process listens on


def _probe(parts: Parts, target: Ref, args: ProbeArgs, field: str) -> tuple[str, str, int]:
    c = main_container(parts.edit(target), args.container)
    b = behaviour(parts, c)
    health = b.health.path if b.health else None
    path = args.path or next(p for p in WRONG_PATHS if p != health)
    port = args.port or listen_port(parts, c)
    probe = dict(c.get(field) or {})
    probe["httpGet"] = {"path": path, "port": port}
    for k in ("tcpSocket", "grpc", "exec"):
        probe.pop(k, None)
    probe.setdefault("periodSeconds", 10 if field == "readinessProbe" else 5)
    probe.setdefault("failureThreshold", 3)
    if field == "livenessProbe":
        probe.setdefault("initialDelaySeconds", 10)
    c[field] = probe
    return c["name"], path, port


def _draw(parts: Parts, target: Ref, rng: random.Random) -> dict[str, object]:
    c = main_container(parts.require(target))
    b = behaviour(parts, c)
    port = listen_port(parts, c)
    if b.health and rng.random() < 0.6:
        return {"path": rng.choice([p for p in WRONG_PATHS if p != b.health.path]), "port": port}
    return {"path": b.health.path if b.health else "/health", "port": port + rng.choice([1, 10, 1000])}


def _has_port(parts: Parts) -> list[Ref]:
    out = []
    for ref in serving_workloads(parts):
        c = main_container(parts.require(ref))
        if behaviour(parts, c).listen:
            out.append(ref)
    return out


def _probe_fault(field: str, symptom: str, signature: Signature, effect: str, why: str = "") -> Fault:
    """The readiness and liveness faults differ only in which probe they break and what that does."""
    kind = field.removesuffix("Probe")

    @fault(f"misconfigured-kubernetes-workload-container-{kind}-probe",
           f"Point the {kind} probe at a path or port the process does not serve.",
           category="Misconfiguration", args=ProbeArgs, candidates=_has_port, symptom=symptom,
           signature=signature, draw=_draw)
    def apply(parts: Parts, target: Ref, args: ProbeArgs, rng: random.Random) -> Impact:
        name, path, port = _probe(parts, target, args, field)
        return Impact(target, f"{kind} probe of {name} checks {path} on port {port}, which never answers 200{why}",
                      effect)

    return apply


READINESS = _probe_fault("readinessProbe", "rollout", NOT_READY, "new pods never become Ready; the rollout stalls")
LIVENESS = _probe_fault("livenessProbe", "crashloop", RESTARTED, "containers restarted by the kubelet, crash-looping",
                        why=", so the kubelet keeps restarting it")


FAULTS = [READINESS, LIVENESS]

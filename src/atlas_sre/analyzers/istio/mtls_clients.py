"""ATL101-ATL103: workloads outside the mesh where STRICT mTLS is enforced (istioctl does not check this).

Why: under STRICT PeerAuthentication a sidecar accepts only mTLS. A client without a sidecar sends
plaintext and gets `connection reset by peer`, and the server's proxy logs nothing, so this only
shows in configuration: which pods lack `istio-proxy`, which Services they are configured to call
(env vars / ConfigMap keys such as `REVIEWS_ADDR=reviews:9080`), and which PeerAuthentication
makes those Services STRICT.

- ATL101 Error: a workload without a sidecar is configured to call a STRICT service.
- ATL102 Warning: a long-running workload without a sidecar runs where STRICT applies and its
  calls are unknown (no service address in its configuration).
- ATL103 Error: a namespace under STRICT has injection disabled/unset while some of its pods are
  meshed and others are not (pods restarted after injection was turned off leave the mesh).
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource, finding
from atlas_sre.analyzers.istio.injection import injection_enabled
from atlas_sre.analyzers.k8s import (
    SYSTEM_NAMESPACES,
    by_owner,
    dependencies,
    has_sidecar,
    live_pods,
    name_of,
    ns_of,
    service_pods,
    spec,
)
from atlas_sre.analyzers.mesh import mtls_mode
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "mtls-clients"
SERVING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})


def _port_target(svc: Obj, port: int) -> int | None:
    for p in spec(svc).get("ports") or []:
        if int(p.get("port", 0)) == port:
            t = p.get("targetPort", port)
            return int(t) if str(t).isdigit() else None
    return None


def strict_targets(snap: Snapshot, workload: Obj) -> list[tuple[str, Obj, Obj]]:
    """(address, Service, PeerAuthentication) for each configured dependency that requires mTLS."""
    out = []
    for var, ns, name, port in dependencies(snap, workload):
        svc = snap.get("Service", ns, name)
        if svc is None:
            continue
        for pod in service_pods(snap, svc)[:1]:
            mode, pa = mtls_mode(snap, pod, _port_target(svc, port))
            if mode == "STRICT" and has_sidecar(pod) and pa is not None:
                out.append((f"{var}={name}:{port}", svc, pa))
    return out


def _pa_name(pa: Obj) -> str:
    return f"{ns_of(pa)}/{name_of(pa)}"


class StrictMtlsClients(Check, name=NAME, codes=("ATL101", "ATL102", "ATL103")):
    """Workloads without a sidecar must not need to talk to STRICT-mTLS services."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        if not snap.of_kind("PeerAuthentication"):
            return
        bare = [p for p in live_pods(snap) if ns_of(p) not in SYSTEM_NAMESPACES and not has_sidecar(p)]
        for res, (top, pods) in by_owner(snap, bare).items():
            targets = strict_targets(snap, top)
            if targets:
                addr, svc, pa = targets[0]
                yield self.finding(
                    "ATL101",
                    Level.ERROR,
                    res,
                    f"{res.kind} {res.namespace}/{res.name} runs without an istio-proxy sidecar but "
                    "calls "
                    f"{name_of(svc)} ({addr}), which requires mTLS (PeerAuthentication {_pa_name(pa)} is "
                    "STRICT); "
                    "its plaintext connections are reset.",
                    evidence=[
                        f"pod {ns_of(p)}/{name_of(p)} has no istio-proxy container" for p in pods[:3]
                    ]
                    + [f"{a}: PeerAuthentication {_pa_name(x)} STRICT" for a, _, x in targets[:3]],
                    related=[Resource.of(svc).entity, Resource.of(pa).entity],
                )
                continue
            mode, pa = mtls_mode(snap, pods[0])
            if res.kind not in SERVING_KINDS or dependencies(snap, top):
                continue  # Jobs opt out on purpose; known calls were checked above and none needs mTLS
            if (
                mode == "STRICT"
                and pa is not None
                and any(has_sidecar(p) for p in live_pods(snap, res.namespace))
            ):
                yield self.finding(
                    "ATL102",
                    Level.WARNING,
                    res,
                    f"{res.kind} {res.namespace}/{res.name} runs without an istio-proxy sidecar where "
                    f"PeerAuthentication {_pa_name(pa)} enforces STRICT mTLS; its calls to meshed "
                    "services "
                    "will be rejected.",
                    related=[Resource.of(pa).entity],
                )
        yield from self._namespaces(snap, bare)

    @staticmethod
    def _namespaces(snap: Snapshot, bare: list[Obj]) -> list[Finding]:
        out = []
        for ns_obj in snap.of_kind("Namespace"):
            ns = name_of(ns_obj)
            mine = [p for p in bare if ns_of(p) == ns]
            meshed = [p for p in live_pods(snap, ns) if has_sidecar(p)]
            if injection_enabled(ns_obj) or not mine or not meshed:
                continue
            mode, pa = mtls_mode(snap, mine[0])
            if mode != "STRICT" or pa is None:
                continue
            label = (ns_obj.get("metadata") or {}).get("labels", {}).get("istio-injection", "<unset>")
            out.append(
                finding(
                    NAME,
                    "ATL103",
                    Level.ERROR,
                    ns_obj,
                    f"Sidecar injection is off (istio-injection={label}) in a namespace where "
                    "PeerAuthentication "
                    f"{_pa_name(pa)} enforces STRICT mTLS: {len(mine)} pod(s) started without istio-proxy "
                    "while "
                    f"{len(meshed)} still have it; the unmeshed pods' calls are rejected.",
                    evidence=[f"pod {ns}/{name_of(p)} has no istio-proxy container" for p in mine[:3]],
                    related=[Resource.of(pa).entity, *[r.entity for r in by_owner(snap, mine)]],
                )
            )
        return out

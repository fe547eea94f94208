"""IST0102 NamespaceNotInjected and IST0103 PodMissingProxy, as istioctl's injection analyzer.

Why: a pod without a sidecar in an injected namespace (usually one that was not restarted after
injection was enabled) sends plaintext and escapes every mesh policy. IST0102 is reported only for
namespaces that run pods (istioctl also reports empty ones); pods that opt out with
`sidecar.istio.io/inject: "false"` are skipped, exactly as istioctl does (ATL101/ATL102 look at them).
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import (
    SYSTEM_NAMESPACES,
    has_sidecar,
    labels,
    live_pods,
    md,
    name_of,
    ns_of,
    spec,
)
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "injection"
INJECT = "sidecar.istio.io/inject"


def injection_enabled(ns: Obj) -> bool | None:
    """True (enabled or a revision label), False (explicitly disabled), None (no label)."""
    lab = labels(ns)
    if "istio.io/rev" in lab:
        return True
    value = lab.get("istio-injection")
    if value is None:
        return None
    return value == "enabled"


def opted_out(pod: Obj) -> bool:
    """The pod says `sidecar.istio.io/inject: "false"` (label wins over annotation, as in Istio)."""
    value = labels(pod).get(INJECT, (md(pod).get("annotations") or {}).get(INJECT, ""))
    return str(value).lower() == "false"


class Injection(Check, name=NAME, codes=("IST0102", "IST0103")):
    """Namespaces that run pods should say whether they are injected; injected pods need their proxy."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        if not snap.mesh_installed:
            return
        pods = live_pods(snap)
        busy = {ns_of(p) for p in pods}
        injected: set[str] = set()
        for ns in snap.of_kind("Namespace"):
            name = name_of(ns)
            if name in SYSTEM_NAMESPACES:
                continue
            state = injection_enabled(ns)
            if state:
                injected.add(name)
            elif state is None and name in busy:
                yield self.finding(
                    "IST0102", Level.INFO, ns,
                    f"The namespace is not enabled for Istio injection. Run 'kubectl label namespace {name} "
                    f"istio-injection=enabled' to enable it, or 'kubectl label namespace {name} "
                    "istio-injection=disabled' to explicitly mark it as not needing injection.",
                )
        for pod in pods:
            if ns_of(pod) not in injected or opted_out(pod) or spec(pod).get("hostNetwork") or has_sidecar(pod):
                continue
            yield self.finding(
                "IST0103", Level.WARNING, pod,
                f"The pod {ns_of(pod)}/{name_of(pod)} is missing the Istio proxy. This can often be "
                "resolved by restarting or redeploying the workload.",
            )

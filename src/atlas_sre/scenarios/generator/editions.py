"""Which faults each library edition was drawn from, so adding a fault never rewrites a scenario.

The first library (`--count 120 --seed 20261126`) was drawn round-robin over these 46 faults; every
random choice depends on that list. A fault added later is left out of those draws and gets its
own scenarios *appended* after them (`APPENDED_PER_FAULT` each, from an rng seeded by the fault id),
so the files already in the library stay byte-identical and benchmark numbers stay comparable.
Only a library run appends (no `--app`/`--fault`, and a count that draws every first-edition fault).
"""

from __future__ import annotations

FIRST_EDITION: frozenset[str] = frozenset({
    "aggressive-outlier-detection-istio-destination-rule",
    "cordoned-kubernetes-worker-node",
    "corrupted-kubernetes-secret-credentials",
    "crashing-kubernetes-workload-init-container",
    "crashing-kubernetes-workload-release",
    "deleted-kubernetes-service",
    "dependency-hiding-istio-sidecar",
    "disabled-sidecar-injection-kubernetes-namespace",
    "disabled-tls-istio-destination-rule",
    "egress-blocking-network-policy",
    "empty-subset-istio-destination-rule",
    "failing-name-resolution-kubernetes-workload-dns-policy",
    "fault-injection-abort-istio-virtual-service",
    "hanging-kubernetes-workload-init-container",
    "ingress-port-blocking-network-policy",
    "insufficient-kubernetes-resource-quota",
    "insufficient-kubernetes-workload-container-resources",
    "invalid-kubernetes-service-selector",
    "invalid-kubernetes-workload-container-command",
    "memory-leak-kubernetes-workload-release",
    "misconfigured-kubernetes-horizontal-pod-autoscaler",
    "misconfigured-kubernetes-workload-container-liveness-probe",
    "misconfigured-kubernetes-workload-container-readiness-probe",
    "mismatched-host-istio-gateway",
    "misnamed-protocol-port-kubernetes-service",
    "missing-destination-rule-subset-istio-virtual-service",
    "missing-principal-istio-authorization-policy",
    "modified-kubernetes-workload-container-environment-variable",
    "modified-target-port-kubernetes-service",
    "nonexistent-kubernetes-workload-configmap-reference",
    "nonexistent-kubernetes-workload-container-image",
    "nonexistent-kubernetes-workload-node",
    "nonexistent-kubernetes-workload-persistent-volume-claim",
    "oversized-kubernetes-workload-resource-requests",
    "priority-kubernetes-workload-priority-preemption",
    "removed-kubernetes-workload-container-environment-variable",
    "scaled-to-zero-kubernetes-workload",
    "short-timeout-istio-virtual-service",
    "strict-mutual-tls-istio-service-mesh-enforcement",
    "traffic-denying-istio-authorization-policy",
    "traffic-denying-istio-gateway-authorization-policy",
    "unbound-gateway-istio-virtual-service",
    "undersized-connection-pool-istio-destination-rule",
    "unschedulable-kubernetes-workload-pod-anti-affinity-rule",
    "wrong-destination-host-istio-virtual-service",
    "wrong-destination-port-istio-virtual-service",
})
APPENDED_PER_FAULT = 2


def first_edition(ids: list[str]) -> list[str]:
    """The ids of the first edition among `ids`, sorted (the list the original draws used)."""
    return sorted(i for i in ids if i in FIRST_EDITION)


def appended(ids: list[str]) -> list[str]:
    """Faults added after the first edition, sorted: each gets scenarios after the first draws."""
    return sorted(i for i in ids if i not in FIRST_EDITION)

"""Namespace names every cluster shares, composed from a few named pieces.

Different questions need different sets, so each set below has its own name and says who asks.
They are built from the pieces so that what is shared is written once.
"""

from __future__ import annotations

DEFAULT_NAMESPACE = "default"
ISTIO_NAMESPACE = "istio-system"
LOCAL_STORAGE_NAMESPACE = "local-path-storage"  # kind's default StorageClass provisioner

KUBE_NAMESPACES: frozenset[str] = frozenset({"kube-system", "kube-public", "kube-node-lease"})
"""The namespaces Kubernetes itself owns (Istio neither injects sidecars there nor ships its CA root)."""

INITIAL_NAMESPACES: tuple[str, ...] = tuple(sorted(KUBE_NAMESPACES | {DEFAULT_NAMESPACE}))
"""The namespaces a fresh cluster has, in the order the API server lists them (the simulator creates them)."""

MESH_EXEMPT_NAMESPACES: frozenset[str] = KUBE_NAMESPACES | {ISTIO_NAMESPACE}
"""Where Istio's injector never adds a sidecar, whatever the labels say."""

NON_APP_NAMESPACES: frozenset[str] = frozenset(INITIAL_NAMESPACES) | {ISTIO_NAMESPACE}
"""Namespaces that are never a scenario's own: not the one `sim serve` points kubectl at."""

SYSTEM_NAMESPACES: frozenset[str] = KUBE_NAMESPACES | {ISTIO_NAMESPACE, LOCAL_STORAGE_NAMESPACE}
"""Platform namespaces of the kind + Istio clusters: analyzers skip them, the reference agents look there
last, scenario readiness ignores them. `default` is not one: applications live there."""

WELL_KNOWN_NAMESPACES: frozenset[str] = SYSTEM_NAMESPACES | {"istio-ingress", "cert-manager", "monitoring"}
"""Namespaces with the same name in every cluster: a capsule may name them literally instead of `{namespace}`."""

INFRA_NAMESPACES: frozenset[str] = (WELL_KNOWN_NAMESPACES - {"istio-ingress"}) | {
    "prometheus", "observability", "metrics-server", "chaos-mesh"}
"""Platform plumbing, not the application under test: grading does not blame a root cause there."""

"""Entity identity and how entities connect: the vocabulary both diagnoses and ground truth speak.

Grading compares strings written by two different authors (a scenario writer and a model), so
both sides go through the same normalisation here: canonical Kubernetes/Istio kind names,
`namespace/Kind/name` layout, alias groups merged into one component, and an undirected topology
graph for hop distances. Nothing here scores anything; `grading.py` does.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Iterable

# Each kind with the short names kubectl (or istioctl) accepts for it. Models write kinds the way
# kubectl prints them (`deployment.apps/checkout`, `svc`, `dr`), so every form an agent has just seen
# on screen must land on the same name; `_KINDS` below adds the lower-case kind itself.
_KIND_TABLE = """
Pod po | Service svc | Deployment deploy | ReplicaSet rs | StatefulSet sts | DaemonSet ds | Job | CronJob cj
ConfigMap cm | Secret | Namespace ns | Node no | PersistentVolumeClaim pvc | PersistentVolume pv
StorageClass sc | NetworkPolicy netpol | ResourceQuota quota | LimitRange | HorizontalPodAutoscaler hpa
Endpoints endpoint ep | EndpointSlice | ServiceAccount sa | Ingress ing | IngressClass
Role | RoleBinding | ClusterRole | ClusterRoleBinding | PriorityClass pc | PodDisruptionBudget pdb
CustomResourceDefinition crd
VirtualService vs | DestinationRule dr | PeerAuthentication pa | AuthorizationPolicy ap
RequestAuthentication ra | Gateway gw | Sidecar | ServiceEntry se | EnvoyFilter | WorkloadEntry we
WorkloadGroup | Telemetry
HTTPRoute | GRPCRoute | TCPRoute | GatewayClass | ReferenceGrant
PrometheusRule | ServiceMonitor | PodMonitor
NetworkChaos | StressChaos | PodChaos | HTTPChaos | JVMChaos | IOChaos | DNSChaos | Schedule
"""
"""core/apps/batch, Istio, then Gateway API, monitoring and chaos (fault-injection objects can be
ground-truth entities)."""

# Lower-case spelling (singular; plurals handled by `canonical_kind`, short names, API group stripped)
# -> canonical kind.
_KINDS: dict[str, str] = {
    spelling: kind
    for entry in _KIND_TABLE.replace("\n", "|").split("|") if entry.strip()
    for kind, *short in [entry.split()]
    for spelling in [kind.lower(), *short]
}

CLUSTER_SCOPED_KINDS: frozenset[str] = frozenset({
    "Node", "Namespace", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
    "PriorityClass", "CustomResourceDefinition", "IngressClass", "GatewayClass",
})
"""Kinds that never carry a namespace: a default namespace must not be prepended to them."""


def canonical_kind(token: str) -> str | None:
    """The canonical kind for `token` (any case, short name, plural or `kind.group`), else None.

    None (rather than the token back) lets callers tell "this is a kind" from "this is a name",
    which is how `normalize_entity` spots `Kind/namespace/name` written in the wrong order.
    """
    key = token.strip().split(".", 1)[0].lower()
    candidates = [key]
    if key.endswith("ies"):
        candidates.append(key[:-3] + "y")
    if key.endswith("es"):
        candidates.append(key[:-2])
    if key.endswith("s"):
        candidates.append(key[:-1])
    for candidate in candidates:
        if candidate in _KINDS:
            return _KINDS[candidate]
    return None


def normalize_entity(name: str, default_namespace: str | None = None) -> str:
    """Rewrite an entity reference to `namespace/Kind/name` (cluster-scoped: `Kind/name`).

    Repairs only what is unambiguous: spaces around parts, known kinds in any spelling,
    `Kind/ns/name` order, a namespace on a cluster-scoped kind, and (when `default_namespace` is
    given) a missing namespace on a namespaced kind. Anything else is returned stripped but
    otherwise untouched, so grading can still show the model's own words as a miss.
    """
    parts = [p.strip() for p in name.strip().strip("/").split("/")]
    if len(parts) == 3:
        first, second = canonical_kind(parts[0]), canonical_kind(parts[1])
        if first is not None and second is None:
            parts = [parts[1], parts[0], parts[2]]  # Kind/ns/name -> ns/Kind/name
            second = first
        kind = second or parts[1]
        if kind in CLUSTER_SCOPED_KINDS:
            return f"{kind}/{parts[2]}"
        return f"{parts[0]}/{kind}/{parts[2]}"
    if len(parts) == 2:
        known = canonical_kind(parts[0])
        kind = known or parts[0]
        if known is not None and known not in CLUSTER_SCOPED_KINDS and default_namespace:
            return f"{default_namespace}/{kind}/{parts[1]}"
        return f"{kind}/{parts[1]}"
    return "/".join(parts)


def entity_key(name: str) -> str:
    """The matching key for an entity: normalised, then case-folded.

    Kubernetes namespaces and names are lower-case DNS labels, so case carries no meaning once
    the kind is canonical; folding it makes `Shop/service/Checkout` match `shop/Service/checkout`.
    """
    return normalize_entity(name).casefold()


def namespace_of(name: str) -> str | None:
    """The namespace part of an entity, None for cluster-scoped (or unparseable) references."""
    parts = normalize_entity(name).split("/")
    return parts[0].casefold() if len(parts) == 3 else None


class Components:
    """Alias groups merged into components; every entity maps to one canonical key.

    Groups that share a member are merged (union-find), because "A is B" and "B is C" in a ground
    truth mean all three are one thing. The canonical key of a component is its first-written
    member, so contracted paths read like the ground truth. An entity in no group is its own
    component. A member ending in `*` (`shop/Pod/checkout-*`) is a pattern: generated pod and
    ReplicaSet names cannot be written in a ground truth, but they belong to their workload.
    """

    def __init__(self, aliases: Iterable[Iterable[str]] = ()) -> None:
        self._parent: dict[str, str] = {}
        self._patterns: list[tuple[str, str]] = []  # (glob over keys, a literal member of its group)
        for group in aliases:
            members = [entity_key(member) for member in group]
            keys = [k for k in members if "*" not in k]
            if not keys:
                continue
            self._patterns += [(k, keys[0]) for k in members if "*" in k]
            for key in keys:
                self._parent.setdefault(key, key)
            for key in keys[1:]:
                self._union(keys[0], key)

    def _find(self, key: str) -> str:
        root = key
        while self._parent.get(root, root) != root:
            root = self._parent[root]
        while self._parent.get(key, key) != root:  # path compression
            self._parent[key], key = root, self._parent[key]
        return root

    def _union(self, a: str, b: str) -> None:
        root_a, root_b = self._find(a), self._find(b)
        if root_a != root_b:
            self._parent[root_b] = root_a  # the earlier group's root stays canonical

    def of(self, name: str) -> str:
        """The canonical component key of `name`."""
        key = entity_key(name)
        if key not in self._parent:
            for pattern, member in self._patterns:
                if fnmatch.fnmatchcase(key, pattern):
                    return self._find(member)
        return self._find(key)

    def members(self, name: str) -> set[str]:
        """Every known key in the component of `name` (itself included)."""
        root = self.of(name)
        return {key for key in self._parent if self._find(key) == root} | {entity_key(name)}


class Topology:
    """An undirected graph over components, for "how many hops from the true root cause".

    Direction is dropped on purpose: a guess one hop upstream of the fault is as near as one hop
    downstream. Nodes are components, so aliases of one thing are one node.
    """

    def __init__(self, edges: Iterable[tuple[str, str]], components: Components | None = None) -> None:
        self.components = components or Components()
        self._adjacent: dict[str, set[str]] = {}
        for a, b in edges:
            ka, kb = self.components.of(a), self.components.of(b)
            self._adjacent.setdefault(ka, set()).add(kb)
            self._adjacent.setdefault(kb, set()).add(ka)

    def hops_to_nearest(self, start: str, targets: Iterable[str]) -> int | None:
        """Fewest hops from `start` to any of `targets` (0 when it is one), None when unreachable."""
        goal = {self.components.of(t) for t in targets}
        origin = self.components.of(start)
        if origin in goal:
            return 0
        seen, queue = {origin}, deque([(origin, 0)])
        while queue:
            node, depth = queue.popleft()
            for nxt in self._adjacent.get(node, ()):
                if nxt in goal:
                    return depth + 1
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append((nxt, depth + 1))
        return None

    def hops(self, a: str, b: str) -> int | None:
        """Shortest hop distance between two entities, None when no path joins them."""
        return self.hops_to_nearest(a, [b])

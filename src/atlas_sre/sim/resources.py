"""The discovery registry: every resource type the simulated API serves, in one table.

Discovery is what makes kubectl resolve `po`, `deploy`, `vs`, `get all` and `top`, so each entry
carries exactly what a real API server advertises (short names, categories, verbs,
subresources). Verbs are the real ones, writes included: a write is refused by the server with an
RBAC-like 403, as on a cluster where the agent's account is read-only, not by kubectl.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RW = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
RW_NO_COLLECTION = ("create", "delete", "get", "list", "patch", "update", "watch")
READ = ("get", "list")


@dataclass(frozen=True)
class Subresource:
    """A subresource as discovery lists it (`pods/log`, `deployments/scale`)."""

    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None  # only when it differs from the parent (Scale is autoscaling/v1)
    version: str | None = None


STATUS = Subresource("status", "", ("get", "patch", "update"))
SCALE = Subresource("scale", "Scale", ("get", "patch", "update"), "autoscaling", "v1")


@dataclass(frozen=True)
class ResourceType:
    """One served resource. `versions[0]` is the preferred (storage) version."""

    group: str
    versions: tuple[str, ...]
    kind: str
    plural: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = RW
    subresources: tuple[Subresource, ...] = (STATUS,)
    crd: bool = False  # a custom resource: list items keep kind/apiVersion, CRD object is served
    served_from: str | None = None  # another group's kind whose objects are converted (events.k8s.io)
    singular: str = field(default="")
    deprecated_in: str = ""  # "1.19": the apiserver warns `<gv> <Kind> is deprecated in v1.19+` on every read

    @property
    def version(self) -> str:
        return self.versions[0]

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def qualified(self) -> str:
        """How errors name the resource: `pods`, `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    def group_version(self, version: str | None = None) -> str:
        v = version or self.version
        return f"{self.group}/{v}" if self.group else v


def _t(group: str, versions: str, kind: str, plural: str, **kw: Any) -> ResourceType:
    return ResourceType(group, tuple(versions.split()), kind, plural, **kw)


_ALL = ("all",)
_NET = ("istio-io", "networking-istio-io")
_SEC = ("istio-io", "security-istio-io")
_TEL = ("istio-io", "telemetry-istio-io")
_NO_SUB: tuple[Subresource, ...] = ()
_ISTIO_NET = "v1 v1alpha3 v1beta1"

RESOURCES: tuple[ResourceType, ...] = (
    # core/v1
    _t("", "v1", "ComponentStatus", "componentstatuses", namespaced=False, short_names=("cs",), verbs=READ,
       subresources=_NO_SUB, deprecated_in="1.19"),
    _t("", "v1", "ConfigMap", "configmaps", short_names=("cm",), subresources=_NO_SUB),
    _t("", "v1", "Endpoints", "endpoints", short_names=("ep",), subresources=_NO_SUB, singular="endpoints"),
    _t("", "v1", "Event", "events", short_names=("ev",), subresources=_NO_SUB),
    _t("", "v1", "LimitRange", "limitranges", short_names=("limits",), subresources=_NO_SUB),
    _t("", "v1", "Namespace", "namespaces", namespaced=False, short_names=("ns",), verbs=RW_NO_COLLECTION,
       subresources=(Subresource("finalize", "Namespace", ("update",)), STATUS)),
    _t("", "v1", "Node", "nodes", namespaced=False, short_names=("no",),
       subresources=(Subresource("proxy", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")),
                     STATUS)),
    _t("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short_names=("pvc",)),
    _t("", "v1", "PersistentVolume", "persistentvolumes", namespaced=False, short_names=("pv",)),
    _t("", "v1", "Pod", "pods", short_names=("po",), categories=_ALL,
       subresources=(Subresource("attach", "PodAttachOptions", ("create", "get")),
                     Subresource("binding", "Binding", ("create",)),
                     Subresource("eviction", "Eviction", ("create",), "policy", "v1"),
                     Subresource("exec", "PodExecOptions", ("create", "get")),
                     Subresource("log", "Pod", ("get",)),
                     Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
                     Subresource("proxy", "PodProxyOptions", ("create", "delete", "get", "patch", "update")),
                     STATUS)),
    _t("", "v1", "ReplicationController", "replicationcontrollers", short_names=("rc",), categories=_ALL,
       subresources=(SCALE, STATUS)),
    _t("", "v1", "ResourceQuota", "resourcequotas", short_names=("quota",)),
    _t("", "v1", "Secret", "secrets", subresources=_NO_SUB),
    _t("", "v1", "ServiceAccount", "serviceaccounts", short_names=("sa",),
       subresources=(Subresource("token", "TokenRequest", ("create",), "authentication.k8s.io", "v1"),)),
    _t("", "v1", "Service", "services", short_names=("svc",), categories=_ALL, verbs=RW,
       subresources=(Subresource("proxy", "ServiceProxyOptions", ("create", "delete", "get", "patch", "update")),
                     STATUS)),
    # apps/v1
    _t("apps", "v1", "DaemonSet", "daemonsets", short_names=("ds",), categories=_ALL),
    _t("apps", "v1", "Deployment", "deployments", short_names=("deploy",), categories=_ALL,
       subresources=(SCALE, STATUS)),
    _t("apps", "v1", "ReplicaSet", "replicasets", short_names=("rs",), categories=_ALL,
       subresources=(SCALE, STATUS)),
    _t("apps", "v1", "StatefulSet", "statefulsets", short_names=("sts",), categories=_ALL,
       subresources=(SCALE, STATUS)),
    _t("apps", "v1", "ControllerRevision", "controllerrevisions", subresources=_NO_SUB),
    # events.k8s.io/v1: the same events as core/v1, converted on the way out
    _t("events.k8s.io", "v1", "Event", "events", short_names=("ev",), subresources=_NO_SUB, served_from="Event"),
    _t("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", namespaced=False,
       verbs=("create",), subresources=_NO_SUB),
    _t("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", namespaced=False,
       verbs=("create",), subresources=_NO_SUB),
    _t("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", namespaced=False,
       verbs=("create",), subresources=_NO_SUB),
    _t("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", namespaced=False,
       verbs=("create",), subresources=_NO_SUB),
    _t("autoscaling", "v2 v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short_names=("hpa",),
       categories=_ALL),
    _t("batch", "v1", "CronJob", "cronjobs", short_names=("cj",), categories=_ALL),
    _t("batch", "v1", "Job", "jobs", categories=_ALL),
    _t("networking.k8s.io", "v1", "IngressClass", "ingressclasses", namespaced=False, subresources=_NO_SUB),
    _t("networking.k8s.io", "v1", "Ingress", "ingresses", short_names=("ing",)),
    _t("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", short_names=("netpol",),
       subresources=_NO_SUB),
    _t("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", short_names=("pdb",)),
    _t("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False,
       subresources=_NO_SUB),
    _t("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False, subresources=_NO_SUB),
    _t("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", subresources=_NO_SUB),
    _t("rbac.authorization.k8s.io", "v1", "Role", "roles", subresources=_NO_SUB),
    _t("storage.k8s.io", "v1", "StorageClass", "storageclasses", namespaced=False, short_names=("sc",),
       subresources=_NO_SUB),
    _t("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations",
       namespaced=False, subresources=_NO_SUB),
    _t("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
       namespaced=False, subresources=_NO_SUB),
    _t("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
       namespaced=False, short_names=("crd", "crds")),
    _t("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", namespaced=False, short_names=("pc",),
       subresources=_NO_SUB),
    _t("coordination.k8s.io", "v1", "Lease", "leases", subresources=_NO_SUB),
    _t("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", subresources=_NO_SUB),
    # Istio custom resources (versions as the istio/istio CRDs serve them; v1 is the storage version)
    _t("networking.istio.io", "v1alpha3", "EnvoyFilter", "envoyfilters", categories=_NET, crd=True),
    _t("networking.istio.io", _ISTIO_NET, "DestinationRule", "destinationrules", short_names=("dr",),
       categories=_NET, crd=True),
    _t("networking.istio.io", _ISTIO_NET, "Gateway", "gateways", short_names=("gw",), categories=_NET, crd=True),
    _t("networking.istio.io", _ISTIO_NET, "ServiceEntry", "serviceentries", short_names=("se",),
       categories=_NET, crd=True),
    _t("networking.istio.io", _ISTIO_NET, "Sidecar", "sidecars", categories=_NET, crd=True),
    _t("networking.istio.io", _ISTIO_NET, "VirtualService", "virtualservices", short_names=("vs",),
       categories=_NET, crd=True),
    _t("networking.istio.io", _ISTIO_NET, "WorkloadEntry", "workloadentries", short_names=("we",),
       categories=_NET, crd=True),
    _t("networking.istio.io", _ISTIO_NET, "WorkloadGroup", "workloadgroups", short_names=("wg",),
       categories=_NET, crd=True),
    _t("security.istio.io", "v1 v1beta1", "AuthorizationPolicy", "authorizationpolicies", short_names=("ap",),
       categories=_SEC, crd=True),
    _t("security.istio.io", "v1 v1beta1", "PeerAuthentication", "peerauthentications", short_names=("pa",),
       categories=_SEC, crd=True),
    _t("security.istio.io", "v1 v1beta1", "RequestAuthentication", "requestauthentications",
       short_names=("ra",), categories=_SEC, crd=True),
    _t("telemetry.istio.io", "v1 v1alpha1", "Telemetry", "telemetries", short_names=("telemetry",),
       categories=_TEL, crd=True),
    # metrics.k8s.io (metrics-server, an aggregated API): synthesised from the derived usage
    _t("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", namespaced=False, verbs=READ, subresources=_NO_SUB),
    _t("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", verbs=READ, subresources=_NO_SUB),
)

# Group order as a real server lists it (kubectl's RESTMapper prefers earlier groups on ties):
# built-in groups, then CRD groups alphabetically, then aggregated APIs.
GROUP_ORDER: tuple[str, ...] = (
    "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch",
    "networking.k8s.io", "policy", "rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io",
    "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "networking.istio.io",
    "security.istio.io", "telemetry.istio.io", "metrics.k8s.io",
)

_BY_PATH: dict[tuple[str, str, str], ResourceType] = {
    (rt.group, v, rt.plural): rt for rt in RESOURCES for v in rt.versions
}
_BY_KIND: dict[tuple[str, str], ResourceType] = {
    (rt.group, rt.kind): rt for rt in RESOURCES if rt.served_from is None
}


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    """The type served at `/apis/{group}/{version}/{plural}` (core: group "")."""
    return _BY_PATH.get((group, version, plural))


def for_object(obj: dict[str, Any]) -> ResourceType | None:
    """The type an object is served as, from its apiVersion group and kind (any version)."""
    api_version = str(obj.get("apiVersion", ""))
    group = api_version.rpartition("/")[0]
    return _BY_KIND.get((group, str(obj.get("kind", ""))))


def group_versions(group: str) -> tuple[str, ...]:
    """Versions of a group, the preferred first (the preferred version of its first type)."""
    seen: list[str] = []
    for rt in RESOURCES:
        if rt.group == group:
            for v in rt.versions:
                if v not in seen:
                    seen.append(v)
    preferred = next((rt.version for rt in RESOURCES if rt.group == group and rt.version == "v1"), None)
    if preferred and seen[0] != preferred:
        seen.remove(preferred)
        seen.insert(0, preferred)
    return tuple(seen)


def api_versions() -> dict[str, Any]:
    """`GET /api`: the legacy core group."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    }


def api_group(group: str) -> dict[str, Any] | None:
    """`GET /apis/{group}`, or None for an unknown group."""
    versions = group_versions(group)
    if not versions:
        return None
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
        "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
    }


def api_group_list() -> dict[str, Any]:
    """`GET /apis`: every named group, in the server's order."""
    groups = [api_group(g) for g in GROUP_ORDER]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [g for g in groups if g]}


def _discovery_entry(rt: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular_name,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    return entry


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    """`GET /api/v1` or `/apis/{group}/{version}`: resources and subresources, or None if unknown."""
    types = [rt for rt in RESOURCES if rt.group == group and version in rt.versions]
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rt in sorted(types, key=lambda t: t.plural):
        resources.append(_discovery_entry(rt))
        for sub in rt.subresources:
            item: dict[str, Any] = {
                "name": f"{rt.plural}/{sub.name}",
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": sub.kind or rt.kind,
                "verbs": list(sub.verbs),
            }
            if sub.group is not None:
                item["group"], item["version"] = sub.group, sub.version
            resources.append(item)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}

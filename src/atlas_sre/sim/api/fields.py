"""Which field labels each kind's `fieldSelector` accepts: the apiserver's field label conversions.

A real server refuses any other label with 400 "field label not supported: <label>" (its
`ConvertFieldLabel`), so a mistyped selector is an error the agent sees, never an empty list it
would read as "no such pods". Kinds without their own conversion accept `metadata.name` and
`metadata.namespace` (`DefaultMetaV1FieldSelectorConversion`); so do custom resources.
"""

from __future__ import annotations

from atlas_sre.sim.resources import ResourceType

_META = frozenset({"metadata.name", "metadata.namespace"})
_INVOLVED = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")

# (group, kind) → accepted labels, from pkg/apis/*/v1/conversion.go (Kubernetes 1.32).
_BY_KIND: dict[tuple[str, str], frozenset[str]] = {
    ("", "Pod"): _META | {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                          "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs",
                          "status.nominatedNodeName", "spec.host"},
    ("", "Node"): frozenset({"metadata.name", "spec.unschedulable"}),
    ("", "Namespace"): frozenset({"metadata.name", "status.phase"}),
    ("", "Secret"): _META | {"type"},
    ("", "ReplicationController"): _META | {"status.replicas"},
    ("", "Event"): _META | {f"involvedObject.{f}" for f in _INVOLVED}
    | {"reason", "reportingComponent", "source", "type"},
    ("events.k8s.io", "Event"): _META | {f"regarding.{f}" for f in _INVOLVED}
    | {"reason", "reportingController", "type"},
    ("apps", "ReplicaSet"): _META | {"status.replicas"},
    ("batch", "Job"): _META | {"status.successful"},
    ("certificates.k8s.io", "CertificateSigningRequest"): frozenset({"metadata.name", "spec.signerName"}),
}


def field_labels(rt: ResourceType) -> frozenset[str]:
    """The field labels a list or watch of `rt` may select on."""
    return _BY_KIND.get((rt.group, rt.kind), _META)

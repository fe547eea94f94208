"""The cluster-wide objects `istioctl install` adds beside istiod: webhooks and RBAC.

istiod injects sidecars through the `istio-sidecar-injector` MutatingWebhookConfiguration (four
webhooks for the default revision: namespace label, object label, and their revision forms) and
validates Istio config through `istio-validator-istio-system`. Its service account gets the
`istiod-*` ClusterRoles and a Role over istio-system secrets; the ingress gateway a Role to read
its TLS secrets. Names, labels, selectors and rules are Istio 1.24's `default` profile.
"""

from __future__ import annotations

import base64
from typing import Any

from atlas_sre.sim.mesh.istio import REVISION, VERSION
from atlas_sre.sim.state import Obj

NS = "istio-system"
ADMISSION = "admissionregistration.k8s.io/v1"
RBAC = "rbac.authorization.k8s.io/v1"
_READ = ["get", "list", "watch"]
_LABELS = {"app.kubernetes.io/part-of": "istio", "app.kubernetes.io/version": VERSION, "istio.io/rev": REVISION,
           "install.operator.istio.io/owning-resource": "unknown", "operator.istio.io/component": "Pilot",
           "release": "istio"}


def _ca_bundle() -> str:
    """A base64 PEM-shaped (meaningless) bundle, as istiod patches into its webhooks."""
    pem = ("-----BEGIN CERTIFICATE-----\nMIIC/TCCAeWgAwIBAgIRAIstioSimulatedRootCA0000000000\n"
           "-----END CERTIFICATE-----\n")
    return base64.b64encode(pem.encode()).decode()


def _expr(key: str, op: str, values: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": op}
    if values is not None:
        out["values"] = values
    return out


def _injector_webhook(name: str, ns_exprs: list[dict[str, Any]], obj_exprs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "admissionReviewVersions": ["v1beta1", "v1"],
        "clientConfig": {"caBundle": _ca_bundle(),
                         "service": {"name": "istiod", "namespace": NS, "path": "/inject", "port": 443}},
        "failurePolicy": "Fail", "matchPolicy": "Equivalent", "name": name,
        "namespaceSelector": {"matchExpressions": ns_exprs}, "objectSelector": {"matchExpressions": obj_exprs},
        "reinvocationPolicy": "Never",
        "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"],
                   "scope": "*"}],
        "sideEffects": "None", "timeoutSeconds": 10,
    }


def sidecar_injector() -> Obj:
    """`istio-sidecar-injector`: which pods the API server sends to istiod's /inject."""
    not_false = _expr("sidecar.istio.io/inject", "NotIn", ["false"])
    return {
        "apiVersion": ADMISSION, "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "istio-sidecar-injector", "labels": {**_LABELS, "app": "sidecar-injector"}},
        "webhooks": [
            _injector_webhook("rev.namespace.sidecar-injector.istio.io",
                              [_expr("istio.io/rev", "In", [REVISION]), _expr("istio-injection", "DoesNotExist")],
                              [not_false]),
            _injector_webhook("rev.object.sidecar-injector.istio.io",
                              [_expr("istio.io/rev", "DoesNotExist"), _expr("istio-injection", "DoesNotExist")],
                              [not_false, _expr("istio.io/rev", "In", [REVISION])]),
            _injector_webhook("namespace.sidecar-injector.istio.io",
                              [_expr("istio-injection", "In", ["enabled"])], [not_false]),
            _injector_webhook("object.sidecar-injector.istio.io",
                              [_expr("istio-injection", "DoesNotExist"), _expr("istio.io/rev", "DoesNotExist")],
                              [_expr("sidecar.istio.io/inject", "In", ["true"]),
                               _expr("istio.io/rev", "DoesNotExist")]),
        ],
    }


def validator() -> Obj:
    """`istio-validator-istio-system`: Istio config is checked by istiod's /validate."""
    return {
        "apiVersion": ADMISSION, "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": f"istio-validator-{NS}",
                     "labels": {**_LABELS, "app": "istiod", "istio": "istiod", "istio.io/rev": REVISION}},
        "webhooks": [{
            "admissionReviewVersions": ["v1beta1", "v1"],
            "clientConfig": {"caBundle": _ca_bundle(),
                             "service": {"name": "istiod", "namespace": NS, "path": "/validate", "port": 443}},
            "failurePolicy": "Fail", "matchPolicy": "Equivalent", "name": "rev.validation.istio.io",
            "namespaceSelector": {}, "objectSelector": {"matchExpressions": [_expr("istio.io/rev", "In", [REVISION])]},
            "rules": [{"apiGroups": ["security.istio.io", "networking.istio.io", "telemetry.istio.io",
                                     "extensions.istio.io"], "apiVersions": ["*"],
                       "operations": ["CREATE", "UPDATE"], "resources": ["*"], "scope": "*"}],
            "sideEffects": "None", "timeoutSeconds": 10,
        }],
    }


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


_ISTIO_GROUPS = ["config.istio.io", "security.istio.io", "networking.istio.io", "authentication.istio.io",
                 "rbac.istio.io", "telemetry.istio.io", "extensions.istio.io"]


def _role(kind: str, name: str, rules: list[dict[str, Any]], app: str, namespace: str | None = None) -> Obj:
    md: dict[str, Any] = {"name": name, "labels": {**_LABELS, "app": app}}
    if namespace:
        md["namespace"] = namespace
    return {"apiVersion": RBAC, "kind": kind, "metadata": md, "rules": rules}


def _binding(kind: str, name: str, role_kind: str, sa: str, app: str, namespace: str | None = None) -> Obj:
    md: dict[str, Any] = {"name": name, "labels": {**_LABELS, "app": app}}
    if namespace:
        md["namespace"] = namespace
    return {"apiVersion": RBAC, "kind": kind, "metadata": md,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": NS}]}


def rbac() -> list[Obj]:
    """istiod's and the ingress gateway's roles and bindings."""
    istiod = [
        _rule(["admissionregistration.k8s.io"], ["mutatingwebhookconfigurations"], ["get", "list", "watch", "update",
                                                                                   "patch"]),
        _rule(["admissionregistration.k8s.io"], ["validatingwebhookconfigurations"], ["get", "list", "watch",
                                                                                     "update"]),
        _rule(_ISTIO_GROUPS, ["*"], _READ),
        _rule(["networking.istio.io"], ["workloadentries"], ["get", "watch", "list", "update", "patch", "create",
                                                            "delete"]),
        _rule(["networking.istio.io"], ["workloadentries/status", "serviceentries/status"],
              ["get", "watch", "list", "update", "patch", "create", "delete"]),
        _rule(["apiextensions.k8s.io"], ["customresourcedefinitions"], _READ),
        _rule([""], ["pods", "nodes", "services", "namespaces", "endpoints"], _READ),
        _rule(["discovery.k8s.io"], ["endpointslices"], _READ),
        _rule(["networking.k8s.io"], ["ingresses", "ingressclasses"], _READ),
        _rule(["networking.k8s.io"], ["ingresses/status"], ["*"]),
        _rule([""], ["configmaps"], ["create", "get", "list", "watch", "update"]),
        _rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
        _rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"]),
        _rule(["certificates.k8s.io"], ["certificatesigningrequests", "certificatesigningrequests/approval",
                                        "certificatesigningrequests/status"], ["update", "create", "get", "delete",
                                                                               "watch"]),
        _rule(["gateway.networking.k8s.io"], ["*"], _READ),
        _rule([""], ["serviceaccounts"], _READ),
    ]
    gateway = [_rule(["gateway.networking.k8s.io"], ["gateways", "gateways/status"], ["*"]),
               _rule([""], ["services", "serviceaccounts"], ["get", "list", "watch", "update", "patch", "create",
                                                             "delete"]),
               _rule(["apps"], ["deployments"], ["get", "list", "watch", "update", "patch", "create", "delete"])]
    reader = [_rule(_ISTIO_GROUPS, ["*"], _READ),
              _rule([""], ["endpoints", "pods", "services", "nodes", "replicationcontrollers", "namespaces",
                           "secrets"], _READ),
              _rule(["networking.istio.io"], ["workloadentries"], _READ),
              _rule(["apps"], ["replicasets"], _READ),
              _rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
              _rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"])]
    out: list[Obj] = []
    for name, rules, sa in ((f"istiod-clusterrole-{NS}", istiod, "istiod"),
                            (f"istiod-gateway-controller-{NS}", gateway, "istiod"),
                            (f"istio-reader-clusterrole-{NS}", reader, "istio-reader-service-account")):
        app = "istio-reader" if "reader" in name else "istiod"
        out += [_role("ClusterRole", name, rules, app), _binding("ClusterRoleBinding", name, "ClusterRole", sa, app)]
    out += [
        _role("Role", "istiod", [_rule(["networking.istio.io"], ["gateways"], ["create"]),
                                 _rule([""], ["secrets"], ["create", "get", "watch", "list", "update", "delete"]),
                                 _rule([""], ["configmaps"], ["delete"])], "istiod", NS),
        _binding("RoleBinding", "istiod", "Role", "istiod", "istiod", NS),
        _role("Role", "istio-ingressgateway-sds", [_rule([""], ["secrets"], _READ)], "istio-ingressgateway", NS),
        _binding("RoleBinding", "istio-ingressgateway-sds", "Role", "istio-ingressgateway-service-account",
                 "istio-ingressgateway", NS),
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "istio-reader-service-account", "namespace": NS,
                      "labels": {**_LABELS, "app": "istio-reader"}}},
    ]
    return out


def istiod_objects() -> list[Obj]:
    """Every cluster object istiod's install adds besides its Deployments, Services and ConfigMaps."""
    return [sidecar_injector(), validator(), *rbac()]

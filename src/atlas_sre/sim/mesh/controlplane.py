"""The Istio control plane a meshed cluster runs: what `istioctl install` leaves in istio-system.

When a scenario uses the mesh (an Istio object, an injection-labelled namespace, a pod asking for
a sidecar, or a gateway entry point), the cluster gets istiod and the ingress gateway as plain
Deployments and Services, the `istio` mesh ConfigMap (access logs to stdout) and the
`istio-ca-root-cert` ConfigMap istiod writes into every application namespace, and the
webhook configurations and RBAC of `istiod_config.py`. Objects the
scenario declares itself (a broken gateway, say) replace these. Layout and names are the
`default` profile's; requests are the `demo` profile's so the control plane does not crowd small
simulated nodes.
"""

from __future__ import annotations

from typing import Any

from atlas_sre.kube.namespaces import KUBE_NAMESPACES
from atlas_sre.sim.mesh.istio import PILOT_IMAGE, PROXY_IMAGE, REVISION, VERSION
from atlas_sre.sim.mesh.istiod_config import istiod_objects
from atlas_sre.sim.state import Obj, SimSpec

NS = "istio-system"
SKIP_CA = KUBE_NAMESPACES
_PART = {"app.kubernetes.io/part-of": "istio", "app.kubernetes.io/version": VERSION, "istio.io/rev": REVISION,
         "install.operator.istio.io/owning-resource": "unknown", "release": "istio"}
MESH_CONFIG = """accessLogFile: /dev/stdout
defaultConfig:
  discoveryAddress: istiod.istio-system.svc:15012
  tracing:
    zipkin:
      address: zipkin.istio-system:9411
defaultProviders:
  metrics:
  - prometheus
enablePrometheusMerge: true
rootNamespace: istio-system
trustDomain: cluster.local"""


def uses_mesh(spec: SimSpec) -> bool:
    """Whether anything in the scenario needs Istio."""
    for m in spec.manifests:
        api = str(m.get("apiVersion", ""))
        if api.startswith(("networking.istio.io/", "security.istio.io/")):
            return True
        labels = (m.get("metadata") or {}).get("labels") or {}
        if m.get("kind") == "Namespace" and (labels.get("istio-injection") == "enabled" or "istio.io/rev" in labels):
            return True
        tmpl = ((m.get("spec") or {}).get("template") or {}).get("metadata") or {}
        if (tmpl.get("labels") or {}).get("sidecar.istio.io/inject") == "true":
            return True
    return any(e.get("gateway") for e in (spec.traffic or {}).get("entrypoints") or [])


def _field(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}


def _deployment(name: str, labels: dict[str, str], selector: dict[str, str], sa: str,
                container: dict[str, Any], annotations: dict[str, str]) -> Obj:
    tmpl_labels = {**labels, "sidecar.istio.io/inject": "false"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS, "labels": {**labels, **_PART}},
            "spec": {"replicas": 1, "selector": {"matchLabels": selector},
                     "strategy": {"rollingUpdate": {"maxSurge": "100%", "maxUnavailable": "25%"}},
                     "template": {"metadata": {"labels": {**tmpl_labels, **_PART}, "annotations": annotations},
                                  "spec": {"serviceAccountName": sa, "containers": [container]}}}}


def _istiod() -> Obj:
    container = {
        "name": "discovery", "image": PILOT_IMAGE,
        "args": ["discovery", "--monitoringAddr=:15014", "--log_output_level=default:info", "--domain",
                 "cluster.local", "--keepaliveMaxServerConnectionAge", "30m"],
        "ports": [{"containerPort": 8080, "name": "http-debug", "protocol": "TCP"},
                  {"containerPort": 15010, "name": "grpc-xds", "protocol": "TCP"},
                  {"containerPort": 15012, "name": "tls-xds", "protocol": "TCP"},
                  {"containerPort": 15017, "name": "https-webhooks", "protocol": "TCP"},
                  {"containerPort": 15014, "name": "http-monitoring", "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "initialDelaySeconds": 1,
                           "periodSeconds": 3, "timeoutSeconds": 5},
        "env": [{"name": "REVISION", "value": REVISION}, {"name": "PILOT_CERT_PROVIDER", "value": "istiod"},
                _field("POD_NAME", "metadata.name"), _field("POD_NAMESPACE", "metadata.namespace"),
                _field("SERVICE_ACCOUNT", "spec.serviceAccountName"),
                {"name": "PILOT_TRACE_SAMPLING", "value": "1"}, {"name": "CLUSTER_ID", "value": "Kubernetes"}],
        "resources": {"requests": {"cpu": "10m", "memory": "100Mi"}},
    }
    labels = {"app": "istiod", "istio": "pilot", "operator.istio.io/component": "Pilot",
              "app.kubernetes.io/name": "istiod"}
    return _deployment("istiod", labels, {"istio": "pilot"}, "istiod", container,
                       {"prometheus.io/port": "15014", "prometheus.io/scrape": "true",
                        "sidecar.istio.io/inject": "false"})


def _gateway() -> Obj:
    container = {
        "name": "istio-proxy", "image": PROXY_IMAGE,
        "args": ["proxy", "router", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning",
                 "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
        "ports": [{"containerPort": 15021, "protocol": "TCP"}, {"containerPort": 8080, "protocol": "TCP"},
                  {"containerPort": 8443, "protocol": "TCP"},
                  {"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"},
                           "failureThreshold": 30, "initialDelaySeconds": 1, "periodSeconds": 2,
                           "successThreshold": 1, "timeoutSeconds": 1},
        "env": [{"name": "PILOT_CERT_PROVIDER", "value": "istiod"},
                {"name": "CA_ADDR", "value": "istiod.istio-system.svc:15012"},
                _field("POD_NAME", "metadata.name"), _field("POD_NAMESPACE", "metadata.namespace"),
                _field("INSTANCE_IP", "status.podIP"), _field("SERVICE_ACCOUNT", "spec.serviceAccountName"),
                {"name": "ISTIO_META_WORKLOAD_NAME", "value": "istio-ingressgateway"},
                {"name": "ISTIO_META_OWNER", "value": "kubernetes://apis/apps/v1/namespaces/istio-system/"
                                                      "deployments/istio-ingressgateway"},
                {"name": "ISTIO_META_MESH_ID", "value": "cluster.local"},
                {"name": "TRUST_DOMAIN", "value": "cluster.local"},
                {"name": "ISTIO_META_UNPRIVILEGED_POD", "value": "true"},
                {"name": "ISTIO_META_CLUSTER_ID", "value": "Kubernetes"},
                _field("ISTIO_META_NODE_NAME", "spec.nodeName")],
        "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "10m", "memory": "40Mi"}},
    }
    labels = {"app": "istio-ingressgateway", "istio": "ingressgateway",
              "operator.istio.io/component": "IngressGateways", "app.kubernetes.io/name": "istio-ingressgateway",
              "service.istio.io/canonical-name": "istio-ingressgateway",
              "service.istio.io/canonical-revision": "latest"}
    return _deployment("istio-ingressgateway", labels, {"app": "istio-ingressgateway", "istio": "ingressgateway"},
                       "istio-ingressgateway-service-account", container,
                       {"prometheus.io/path": "/stats/prometheus", "prometheus.io/port": "15020",
                        "prometheus.io/scrape": "true", "istio.io/rev": REVISION,
                        "sidecar.istio.io/inject": "false"})


def _service(name: str, labels: dict[str, str], selector: dict[str, str], ports: list[tuple[str, int, int]],
             type_: str = "ClusterIP") -> Obj:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS, "labels": {**labels, **_PART}},
            "spec": {"type": type_, "selector": selector,
                     "ports": [{"name": n, "port": p, "targetPort": t, "protocol": "TCP"} for n, p, t in ports]}}


def _sa(name: str, labels: dict[str, str]) -> Obj:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": NS, "labels": {**labels, **_PART}}}


def _ca(namespace: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "istio-ca-root-cert", "namespace": namespace,
                         "labels": {"istio.io/config": "true"}},
            "data": {"root-cert.pem": "-----BEGIN CERTIFICATE-----\nMIIC/TCCAeWgAwIBAgIRAIstio"
                     "SimulatedRootCA0000000000wDQYJKoZIhvcNAQELBQAwGDEWMBQGA1UEChMNY2x1c3Rlci5sb2NhbDAeFw0y"
                     "\n-----END CERTIFICATE-----\n"}}


def control_plane(spec: SimSpec) -> list[Obj]:
    """The objects to add for a meshed scenario (none when it does not use the mesh)."""
    if not uses_mesh(spec):
        return []
    gw_labels = {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    objs = [
        _sa("istiod", {"app": "istiod"}),
        _sa("istio-ingressgateway-service-account", gw_labels),
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "istio", "namespace": NS, "labels": {"istio.io/rev": REVISION, "release": "istio"}},
         "data": {"mesh": MESH_CONFIG, "meshNetworks": "networks: {}"}},
        _istiod(),
        _service("istiod", {"app": "istiod", "istio": "pilot"}, {"app": "istiod", "istio": "pilot"},
                 [("grpc-xds", 15010, 15010), ("https-dns", 15012, 15012), ("https-webhook", 443, 15017),
                  ("http-monitoring", 15014, 15014)]),
        _gateway(),
        _service("istio-ingressgateway", gw_labels, gw_labels,
                 [("status-port", 15021, 15021), ("http2", 80, 8080), ("https", 443, 8443)], "LoadBalancer"),
        *istiod_objects(),  # the injector/validator webhooks and RBAC
    ]
    namespaces = [NS, "default"]
    for m in spec.manifests:
        ns = m["metadata"]["name"] if m.get("kind") == "Namespace" else (m.get("metadata") or {}).get("namespace")
        if ns and ns not in namespaces and ns not in SKIP_CA:
            namespaces.append(ns)
    objs += [_ca(ns) for ns in namespaces]
    declared = {(m.get("kind"), (m.get("metadata") or {}).get("namespace"), (m.get("metadata") or {}).get("name"))
                for m in spec.manifests}
    return [o for o in objs if (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) not in declared]

"""Istio's sidecar injector: which pods get `istio-init` + `istio-proxy`, and what it adds to them.

The policy (Istio's "Controlling the injection policy"):
- a namespace labelled `istio-injection=disabled` is never injected;
- a pod labelled or annotated `sidecar.istio.io/inject: "false"` is not injected;
- a namespace labelled `istio-injection=enabled`, or `istio.io/rev=<an installed revision>`, is;
- elsewhere, a pod *labelled* `sidecar.istio.io/inject: "true"` is (the webhook's object selector);
- kube-system, kube-public, kube-node-lease and istio-system, and hostNetwork pods, never are.
Injection happens in admission, when a pod is created: the namespace is read as it was then (a
label removed later leaves running pods with their sidecars until they are recreated), and the
sidecar's requests (istio-proxy 100m/128Mi; istio-init's count as max(init, sum of app)) are what
ResourceQuota and the scheduler see. `injector(...)` is the webhook the mesh registers with the
workload room's admission chain (`podgen.register_mutator`).

The mutation is the injector's: the init container, the proxy container with its ports, probes,
resources and environment, the volumes, and the labels and annotations istioctl and kubectl read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from atlas_sre.kube.namespaces import MESH_EXEMPT_NAMESPACES
from atlas_sre.sim.mesh.istio import PROXY_IMAGE, REVISION
from atlas_sre.sim.state import Change, Obj, SimSpec

NEVER = MESH_EXEMPT_NAMESPACES
VOLUMES = ["workload-socket", "credential-socket", "workload-certs", "istio-envoy", "istio-data", "istio-podinfo",
           "istio-token", "istiod-ca-cert"]
RESOURCES = {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "128Mi"}}


def wants_sidecar(ns_labels: dict[str, str], labels: dict[str, str], annotations: dict[str, str],
                  revisions: set[str]) -> bool:
    """The injector's decision for one pod."""
    ns_flag = ns_labels.get("istio-injection")
    if ns_flag == "disabled":
        return False
    if "false" in (labels.get("sidecar.istio.io/inject"), annotations.get("sidecar.istio.io/inject")):
        return False
    if ns_flag == "enabled":
        return True
    if ns_labels.get("istio.io/rev") in revisions:
        return True
    return labels.get("sidecar.istio.io/inject") == "true"


def namespace_labels_at(ns_obj: Obj | None, change: Change | None,
                        created: datetime | None) -> dict[str, str]:
    """A namespace's labels as the injector saw them when a pod was created (scenario time)."""
    labels = dict(((ns_obj or {}).get("metadata") or {}).get("labels") or {})
    if change is None or created is None:
        return labels
    if created < change.at:
        return dict(((change.previous or {}).get("metadata") or {}).get("labels") or {})
    return labels


def owner_of(pod: Obj) -> tuple[str, str]:
    """(workload name, kind) for ISTIO_META_WORKLOAD_NAME / OWNER, by Istio's `GetDeployMetaFromPod`.

    A ReplicaSet owner whose name ends in the pod's `pod-template-hash` is its Deployment (the
    hash stripped); any other controller is itself; a pod without one is named after itself.
    """
    md = pod["metadata"]
    owners = md.get("ownerReferences") or []
    refs = [r for r in owners if r.get("controller")] or owners
    if not refs:
        return str(md.get("name") or md.get("generateName", "")), ""
    name, kind = str(refs[0]["name"]), str(refs[0].get("kind", ""))
    pth = (md.get("labels") or {}).get("pod-template-hash")
    if kind == "ReplicaSet" and pth and name.endswith(f"-{pth}"):
        return name[: -len(pth) - 1], "Deployment"
    return name, kind


def injector(namespaces: dict[str, Obj],
             revisions: set[str]) -> Callable[[SimSpec, Any, str, Obj, datetime], None]:
    """The injection webhook as an admission mutator over the given Namespace objects."""
    def mutate(spec: SimSpec, state: Any, namespace: str, pod: Obj, created: datetime) -> None:
        md, pspec = pod["metadata"], pod.get("spec") or {}
        injected = "sidecar.istio.io/status" in (md.get("annotations") or {})
        if namespace in NEVER or pspec.get("hostNetwork") or injected:
            return
        ns_labels = namespace_labels_at(namespaces.get(namespace), spec.history.get(f"Namespace/{namespace}"),
                                        created)
        if wants_sidecar(ns_labels, md.get("labels") or {}, md.get("annotations") or {}, revisions):
            inject(pod, *owner_of(pod))
    return mutate


def _field(path: str) -> dict[str, Any]:
    return {"valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}


def _resource(name: str) -> dict[str, Any]:
    return {"valueFrom": {"resourceFieldRef": {"divisor": "0", "resource": name}}}


def _env(pod: Obj, workload: str, owner: str, app: list[str]) -> list[dict[str, Any]]:
    ports = [{"name": p["name"], "containerPort": p["containerPort"], "protocol": p.get("protocol", "TCP")}
             if p.get("name") else {"containerPort": p["containerPort"], "protocol": p.get("protocol", "TCP")}
             for c in pod["spec"].get("containers") or [] for p in c.get("ports") or []]
    pod_ports = "[\n" + ",".join("    " + json.dumps(p, separators=(",", ":")) for p in ports) + "\n]"
    env: list[dict[str, Any]] = [
        {"name": "PILOT_CERT_PROVIDER", "value": "istiod"},
        {"name": "CA_ADDR", "value": "istiod.istio-system.svc:15012"},
        {"name": "POD_NAME", **_field("metadata.name")},
        {"name": "POD_NAMESPACE", **_field("metadata.namespace")},
        {"name": "INSTANCE_IP", **_field("status.podIP")},
        {"name": "SERVICE_ACCOUNT", **_field("spec.serviceAccountName")},
        {"name": "HOST_IP", **_field("status.hostIP")},
        {"name": "ISTIO_CPU_LIMIT", **_resource("limits.cpu")},
        {"name": "PROXY_CONFIG", "value": "{}\n"},
        {"name": "ISTIO_META_POD_PORTS", "value": pod_ports if ports else "[\n]"},
        {"name": "ISTIO_META_APP_CONTAINERS", "value": ",".join(app)},
        {"name": "GOMEMLIMIT", **_resource("limits.memory")},
        {"name": "GOMAXPROCS", **_resource("limits.cpu")},
        {"name": "ISTIO_META_CLUSTER_ID", "value": "Kubernetes"},
        {"name": "ISTIO_META_NODE_NAME", **_field("spec.nodeName")},
        {"name": "ISTIO_META_INTERCEPTION_MODE", "value": "REDIRECT"},
        {"name": "ISTIO_META_WORKLOAD_NAME", "value": workload},
        {"name": "ISTIO_META_OWNER", "value": owner},
        {"name": "ISTIO_META_MESH_ID", "value": "cluster.local"},
        {"name": "TRUST_DOMAIN", "value": "cluster.local"},
    ]
    return env


def _init_container() -> dict[str, Any]:
    return {
        "name": "istio-init",
        "image": PROXY_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "",
                 "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"],
        "resources": json.loads(json.dumps(RESOURCES)),
        "securityContext": {"allowPrivilegeEscalation": False,
                            "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
                            "privileged": False, "readOnlyRootFilesystem": False, "runAsGroup": 0,
                            "runAsNonRoot": False, "runAsUser": 0},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }


def _proxy_container(pod: Obj, workload: str, owner: str, app: list[str]) -> dict[str, Any]:
    mounts = [("/var/run/secrets/workload-spiffe-uds", "workload-socket"),
              ("/var/run/secrets/credential-uds", "credential-socket"),
              ("/var/run/secrets/workload-spiffe-credentials", "workload-certs"),
              ("/var/run/secrets/istio", "istiod-ca-cert"), ("/var/lib/istio/data", "istio-data"),
              ("/etc/istio/proxy", "istio-envoy"), ("/var/run/secrets/tokens", "istio-token"),
              ("/etc/istio/pod", "istio-podinfo")]
    return {
        "name": "istio-proxy",
        "image": PROXY_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning",
                 "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
        "env": _env(pod, workload, owner, app),
        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        "readinessProbe": {"failureThreshold": 4, "httpGet": {"path": "/healthz/ready", "port": 15021,
                                                              "scheme": "HTTP"},
                           "periodSeconds": 15, "successThreshold": 1, "timeoutSeconds": 3},
        "startupProbe": {"failureThreshold": 600, "httpGet": {"path": "/healthz/ready", "port": 15021,
                                                              "scheme": "HTTP"},
                         "periodSeconds": 1, "successThreshold": 1, "timeoutSeconds": 3},
        "resources": json.loads(json.dumps(RESOURCES)),
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                            "privileged": False, "readOnlyRootFilesystem": True, "runAsGroup": 1337,
                            "runAsNonRoot": True, "runAsUser": 1337},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [{"mountPath": path, "name": name} for path, name in mounts],
    }


def _volumes() -> list[dict[str, Any]]:
    return [
        {"name": "workload-socket", "emptyDir": {}},
        {"name": "credential-socket", "emptyDir": {}},
        {"name": "workload-certs", "emptyDir": {}},
        {"name": "istio-envoy", "emptyDir": {"medium": "Memory"}},
        {"name": "istio-data", "emptyDir": {}},
        {"name": "istio-podinfo", "downwardAPI": {"defaultMode": 420, "items": [
            {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}, "path": "labels"},
            {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.annotations"}, "path": "annotations"}]}},
        {"name": "istio-token", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {
            "audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}]}},
        {"name": "istiod-ca-cert", "configMap": {"defaultMode": 420, "name": "istio-ca-root-cert"}},
    ]


def inject(pod: Obj, workload: str, owner_kind: str) -> None:
    """Mutate `pod` the way the injection webhook does (idempotent)."""
    md, spec = pod["metadata"], pod.setdefault("spec", {})
    annotations = md.setdefault("annotations", {})
    if "sidecar.istio.io/status" in annotations:
        return
    app = [c["name"] for c in spec.get("containers") or []]
    ns = md.get("namespace", "default")
    owner = f"kubernetes://apis/apps/v1/namespaces/{ns}/{owner_kind.lower()}s/{workload}" if owner_kind \
        else f"kubernetes://apis/v1/namespaces/{ns}/pods/{md.get('name') or workload}"
    token = [m for c in spec.get("containers") or [] for m in c.get("volumeMounts") or []
             if m.get("mountPath") == "/var/run/secrets/kubernetes.io/serviceaccount"]
    proxy = _proxy_container(pod, workload, owner, app)
    proxy["volumeMounts"] += [dict(m) for m in token[:1]]
    spec.setdefault("initContainers", []).append(_init_container())
    spec.setdefault("containers", []).append(proxy)
    spec.setdefault("volumes", []).extend(_volumes())
    labels = md.setdefault("labels", {})
    labels["security.istio.io/tlsMode"] = "istio"
    labels["service.istio.io/canonical-name"] = labels.get("app.kubernetes.io/name") or labels.get("app") or workload
    labels["service.istio.io/canonical-revision"] = (labels.get("app.kubernetes.io/version") or labels.get("version")
                                                     or "latest")
    status = {"initContainers": ["istio-init"], "containers": ["istio-proxy"], "volumes": VOLUMES,
              "imagePullSecrets": None, "revision": REVISION}
    annotations.update({
        "istio.io/rev": REVISION,
        "kubectl.kubernetes.io/default-container": app[0] if app else "istio-proxy",
        "kubectl.kubernetes.io/default-logs-container": app[0] if app else "istio-proxy",
        "prometheus.io/path": "/stats/prometheus",
        "prometheus.io/port": "15020",
        "prometheus.io/scrape": "true",
        "sidecar.istio.io/status": json.dumps(status, separators=(",", ":")),
    })

"""What every kind cluster runs before any app: CoreDNS behind `kube-dns`, kube-proxy, bootstrap RBAC.

`kubectl get pods -A` on a real cluster is never just the app. The baseline is plain manifests
that flow through the same controllers, scheduler and kubelet as the scenario's own objects; a
scenario that declares an object of the same name (say, a broken CoreDNS) replaces it. Their
image behaviour is added to a *copy* of the registry (`state.extras["registry"]`). The
control-plane node and its static pods are `kubeadm.py`'s, the RBAC objects `rbac.py`'s.
"""

from __future__ import annotations

from typing import Any

from atlas_sre.sim.images import Health, ImageBehaviour, Listen, LogTemplates, Registry, Usage
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads import kubeadm, rbac
from atlas_sre.sim.workloads.applogs import with_startup_logs

REGISTRY_KEY = "registry"
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.11.3"
KUBE_PROXY_IMAGE = "registry.k8s.io/kube-proxy:v1.32.2"
KUBE_DNS_IP = "10.96.0.10"
KUBERNETES_IP = "10.96.0.1"

COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
"""

_BEHAVIOURS: dict[str, ImageBehaviour] = {
    COREDNS_IMAGE: ImageBehaviour(
        entrypoint=["/coredns"],
        listen=[Listen(port=53, protocol="dns"), Listen(port=8080), Listen(port=8181), Listen(port=9153)],
        health=Health(path="/ready", port=8181),
        usage=Usage(memoryMi=14, cpuMilli=3),
        startupSeconds=2.0,
        logs=LogTemplates(startup=[
            ".:53",
            "[INFO] plugin/reload: Running configuration SHA512 = 591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61"
            "db9961c2fa5f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908",
            "CoreDNS-1.11.3",
            "linux/amd64, go1.21.11, a6338e9",
        ]),
    ),
    KUBE_PROXY_IMAGE: ImageBehaviour(
        entrypoint=["/usr/local/bin/kube-proxy"],
        listen=[Listen(port=10249), Listen(port=10256)],
        usage=Usage(memoryMi=18, cpuMilli=1),
        startupSeconds=1.0,
        logs=LogTemplates(startup=[
            '"Using iptables proxy"',
            '"Version info" version="v1.32.2"',
            '"Starting service config controller"',
            '"Caches are synced" controller="service config"',
        ]),
    ),
}


def registry(spec: SimSpec, state: ClusterState) -> Registry:
    """The registry the stages use: the scenario's (silent images given start-up lines, `applogs.py`),
    plus the baseline images (never mutating spec)."""
    reg = state.extras.get(REGISTRY_KEY)
    if reg is None:
        reg = {image: with_startup_logs(image, b) for image, b in spec.registry.items()}
        for image, behaviour in {**_BEHAVIOURS, **kubeadm.BEHAVIOURS}.items():
            reg.setdefault(image, behaviour)
        state.extras[REGISTRY_KEY] = reg
    return reg


def _sa(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": "kube-system"}}


def _coredns() -> Obj:
    labels = {"k8s-app": "kube-dns"}
    container: dict[str, Any] = {
        "name": "coredns", "image": COREDNS_IMAGE, "args": ["-conf", "/etc/coredns/Corefile"],
        "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                  {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                  {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}],
        "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}},
        # Only the readiness probe: the image's single health path cannot also answer /health:8080.
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"}},
        "volumeMounts": [{"mountPath": "/etc/coredns", "name": "config-volume", "readOnly": True}],
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dict(labels)},
        "spec": {
            "replicas": 2, "selector": {"matchLabels": dict(labels)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "template": {"metadata": {"labels": dict(labels)}, "spec": {
                "containers": [container], "dnsPolicy": "Default", "nodeSelector": {"kubernetes.io/os": "linux"},
                "priorityClassName": "system-cluster-critical", "serviceAccountName": "coredns",
                "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 100, "podAffinityTerm": {
                        "labelSelector": {"matchExpressions": [
                            {"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
                        "topologyKey": "kubernetes.io/hostname"}}]}},
                "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                "volumes": [{"name": "config-volume",
                             "configMap": {"name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}]}}],
            }},
        },
    }


def _kube_dns() -> Obj:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kube-dns", "namespace": "kube-system",
                     "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                "kubernetes.io/name": "CoreDNS"},
                     "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
        "spec": {"clusterIP": KUBE_DNS_IP, "selector": {"k8s-app": "kube-dns"},
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                           {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                           {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]},
    }


def _kube_proxy() -> Obj:
    labels = {"k8s-app": "kube-proxy"}
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": dict(labels)},
        "spec": {"selector": {"matchLabels": dict(labels)}, "template": {
            "metadata": {"labels": dict(labels)}, "spec": {
                "containers": [{
                    "name": "kube-proxy", "image": KUBE_PROXY_IMAGE,
                    "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                                "--hostname-override=$(NODE_NAME)"],
                    "env": [{"name": "NODE_NAME",
                             "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}],
                    "securityContext": {"privileged": True},
                    "volumeMounts": [{"mountPath": "/var/lib/kube-proxy", "name": "kube-proxy"},
                                     {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
                                     {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": True}],
                }],
                "hostNetwork": True, "nodeSelector": {"kubernetes.io/os": "linux"},
                "priorityClassName": "system-node-critical", "serviceAccountName": "kube-proxy",
                "tolerations": [{"operator": "Exists"}],
                "volumes": [{"name": "kube-proxy", "configMap": {"name": "kube-proxy"}},
                            {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                            {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}}],
            }}},
    }


def baseline_manifests() -> list[Obj]:
    """The kube-system objects of a fresh kind cluster, as manifests (fresh dicts every call)."""
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
              "data": {"Corefile": COREFILE}}
    proxy_config = {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"app": "kube-proxy"}},
                    "data": {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: "
                             "KubeProxyConfiguration\nmode: iptables\nclusterCIDR: 10.244.0.0/16\n"}}
    return [_sa("coredns"), _sa("kube-proxy"), *rbac.controller_service_accounts(), config, proxy_config,
            _coredns(), _kube_dns(), _kube_proxy(), *rbac.namespaced_rbac()]


def cluster_objects() -> list[Obj]:
    """Cluster-scoped objects every cluster has: bootstrap RBAC, priority classes, kind's default StorageClass."""
    def pc(name: str, value: int, desc: str) -> Obj:
        return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
                "value": value, "globalDefault": False, "description": desc,
                "preemptionPolicy": "PreemptLowerPriority"}

    return [
        *rbac.cluster_roles(),
        *rbac.cluster_role_bindings(),
        pc("system-cluster-critical", 2000000000,
           "Used for system critical pods that must run in the cluster, but can be moved to another node if "
           "necessary."),
        pc("system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their "
           "current node."),
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
         "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
         # kind's class binds on first consumer; Immediate keeps unconsumed claims Bound, as the brief asks.
         "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"},
    ]


def kubernetes_service() -> Obj:
    """The `default/kubernetes` Service every cluster has (endpoints point at the apiserver)."""
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": KUBERNETES_IP,
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}}

"""The control-plane node kubeadm (kind) sets up, and the static pods its kubelet runs.

Every kind cluster has one node labelled and tainted `node-role.kubernetes.io/control-plane`,
running etcd, kube-apiserver, kube-controller-manager and kube-scheduler as static pods (the
kubelet reads them from /etc/kubernetes/manifests and mirrors them into the API, owned by the
Node). A scenario that declares a control-plane node itself gets none added. The node is named
the way kind names it (`<cluster>-control-plane` next to `<cluster>-worker*`, else
`control-plane`) and sized like the first declared node (kind nodes share one host). It is
appended after the workers so their addresses and pod CIDRs stay what they were.

The taint keeps every workload that does not tolerate it off the node, and the scheduler counts
it like a real one: "0/3 nodes are available: 1 node(s) had untolerated taint
{node-role.kubernetes.io/control-plane: }, ...". Mirror pods carry the annotations the kubelet
sets (`kubernetes.io/config.*`), so they skip the ServiceAccount admission plugin as they do live.
"""

from __future__ import annotations

import re
from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.images import Health, ImageBehaviour, Listen, LogTemplates, Usage
from atlas_sre.sim.objects.meta import clone
from atlas_sre.sim.objects.nodes import internal_ip
from atlas_sre.sim.state import Obj

ROLE_LABEL = "node-role.kubernetes.io/control-plane"
CONTROL_PLANE_TAINT = {"key": ROLE_LABEL, "effect": "NoSchedule"}
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
K8S_VERSION = "v1.32.2"
ETCD_IMAGE = "registry.k8s.io/etcd:3.5.16-0"
APISERVER_IMAGE = f"registry.k8s.io/kube-apiserver:{K8S_VERSION}"
CONTROLLER_MANAGER_IMAGE = f"registry.k8s.io/kube-controller-manager:{K8S_VERSION}"
SCHEDULER_IMAGE = f"registry.k8s.io/kube-scheduler:{K8S_VERSION}"
_PKI = "/etc/kubernetes/pki"
_WORKER = re.compile(r"^(?P<cluster>.+)-worker\d*$")

BEHAVIOURS: dict[str, ImageBehaviour] = {
    ETCD_IMAGE: ImageBehaviour(
        entrypoint=["etcd"], binaries=["/usr/local/bin/etcd", "etcdctl"],
        listen=[Listen(port=2379, protocol="grpc"), Listen(port=2380, protocol="tcp"), Listen(port=2381)],
        health=Health(path="/health", port=2381), usage=Usage(memoryMi=38, cpuMilli=18), startupSeconds=2.0,
        logs=LogTemplates(startup=[
            '{"level":"info","caller":"etcdmain/etcd.go:73","msg":"Running: ","args":["etcd",'
            '"--data-dir=/var/lib/etcd","--name={node}"]}',
            '{"level":"info","caller":"embed/etcd.go:311","msg":"starting an etcd server","etcd-version":"3.5.16",'
            '"go-version":"go1.22.7","go-os":"linux","go-arch":"amd64","name":"{node}","data-dir":"/var/lib/etcd"}',
            '{"level":"info","caller":"etcdserver/server.go:2118","msg":"published local member to cluster through '
            'raft","local-member-attributes":"{Name:{node}}","request-path":"/0/members"}',
            '{"level":"info","caller":"embed/serve.go:250","msg":"serving client traffic securely",'
            '"traffic":"grpc+http","address":"127.0.0.1:2379"}',
            '{"level":"info","caller":"etcdmain/main.go:44","msg":"notifying init daemon"}',
        ])),
    APISERVER_IMAGE: ImageBehaviour(
        entrypoint=["kube-apiserver"], listen=[Listen(port=6443, protocol="https")],
        health=Health(path="/livez", port=6443), usage=Usage(memoryMi=265, cpuMilli=38), startupSeconds=6.0,
        logs=LogTemplates(startup=[
            'Flag --advertise-address has been deprecated, use --bind-address instead.',
            '"Starting Kubernetes API server" version="v1.32.2"',
            '"Serving securely on [::]:6443"',
            '"Starting controller" name="autoregister"',
            '"Caches are synced" controller="node_authorizer"',
            '"quota admission added evaluator for" resource="leases.coordination.k8s.io"',
            '"all system priority classes are created successfully or already exist."',
        ])),
    CONTROLLER_MANAGER_IMAGE: ImageBehaviour(
        entrypoint=["kube-controller-manager"], listen=[Listen(port=10257, protocol="https")],
        health=Health(path="/healthz", port=10257), usage=Usage(memoryMi=52, cpuMilli=14), startupSeconds=3.0,
        logs=LogTemplates(startup=[
            '"Starting" version="v1.32.2"',
            '"Serving securely on 127.0.0.1:10257"',
            '"attempting to acquire leader lease..." lock="kube-system/kube-controller-manager"',
            '"successfully acquired lease" lock="kube-system/kube-controller-manager"',
            '"Started controller" controller="deployment-controller"',
            '"Caches are synced" controller="garbage collector"',
        ])),
    SCHEDULER_IMAGE: ImageBehaviour(
        entrypoint=["kube-scheduler"], listen=[Listen(port=10259, protocol="https")],
        health=Health(path="/healthz", port=10259), usage=Usage(memoryMi=22, cpuMilli=4), startupSeconds=2.0,
        logs=LogTemplates(startup=[
            '"Starting Kubernetes Scheduler" version="v1.32.2"',
            '"Serving securely on 127.0.0.1:10259"',
            '"attempting to acquire leader lease..." lock="kube-system/kube-scheduler"',
            '"successfully acquired lease" lock="kube-system/kube-scheduler"',
        ])),
}


def is_control_plane(node: Obj) -> bool:
    """Whether a node carries the control-plane role label."""
    return ROLE_LABEL in ((node.get("metadata") or {}).get("labels") or {})


def control_plane_name(nodes: list[Obj]) -> str:
    """kind's naming: `<cluster>-control-plane` beside `<cluster>-worker*` nodes, else `control-plane`."""
    names = [str(n["metadata"]["name"]) for n in nodes]
    clusters = {m.group("cluster") for m in (_WORKER.match(n) for n in names) if m}
    name = f"{clusters.pop()}-control-plane" if len(clusters) == 1 and len(names) == sum(
        1 for n in names if _WORKER.match(n)) else "control-plane"
    return name if name not in names else f"{name}-1"


def control_plane_node(nodes: list[Obj]) -> Obj | None:
    """The control-plane Node to add beside `nodes` (None when one is declared)."""
    if any(is_control_plane(n) for n in nodes):
        return None
    first = (nodes[0].get("status") or {}) if nodes else {}
    resources = {k: clone(v) for k, v in first.items() if k in ("capacity", "allocatable") and v}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": control_plane_name(nodes),
                         "labels": {ROLE_LABEL: "", "node.kubernetes.io/exclude-from-external-load-balancers": ""}},
            "spec": {"taints": [dict(CONTROL_PLANE_TAINT)]},
            "status": resources or {"capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"}}}


def _hostpath(name: str, path: str, kind: str = "DirectoryOrCreate") -> dict[str, Any]:
    return {"name": name, "hostPath": {"path": path, "type": kind}}


def _probe(path: str, port: int, host: str, scheme: str, failures: int, delay: int = 10) -> dict[str, Any]:
    return {"httpGet": {"host": host, "path": path, "port": port, "scheme": scheme},
            "failureThreshold": failures, "initialDelaySeconds": delay, "periodSeconds": 10, "timeoutSeconds": 15}


def _static_pod(seed: int, node: str, seen: str, component: str, image: str, command: list[str],
                cpu: str, probe: tuple[str, int, str, str], mounts: list[tuple[str, str, bool]],
                extra_ann: dict[str, str] | None = None, memory: str | None = None) -> Obj:
    """One mirror pod as the kubelet posts it for a kubeadm manifest."""
    config_hash = ids.digest(seed, "static-pod", node, component).hex()[:32]
    path, port, host, scheme = probe
    requests = {"cpu": cpu, **({"memory": memory} if memory else {})}
    container = {
        "name": component, "image": image, "imagePullPolicy": "IfNotPresent", "command": command,
        "livenessProbe": _probe(path, port, host, scheme, 8),
        "startupProbe": _probe(path, port, host, scheme, 24),
        "resources": {"requests": requests},
        "volumeMounts": [{"mountPath": p, "name": n, **({"readOnly": True} if ro else {})} for n, p, ro in mounts],
    }
    volumes = [_hostpath(n, p, "File" if p.endswith(".conf") else "DirectoryOrCreate") for n, p, _ in mounts]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": f"{component}-{node}", "namespace": "kube-system",
            "labels": {"component": component, "tier": "control-plane"},
            "annotations": {**(extra_ann or {}), "kubernetes.io/config.hash": config_hash,
                            MIRROR_ANNOTATION: config_hash, "kubernetes.io/config.seen": seen,
                            "kubernetes.io/config.source": "file"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node,
                                 "uid": ids.uid(seed, "Node", None, node), "controller": True}],
        },
        "spec": {"containers": [container], "hostNetwork": True, "nodeName": node,
                 "priorityClassName": "system-node-critical",
                 "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                 "tolerations": [{"operator": "Exists", "effect": "NoExecute"}], "volumes": volumes},
    }


def static_pods(seed: int, node: str, index: int, seen: str) -> list[Obj]:
    """etcd, kube-apiserver, kube-controller-manager and kube-scheduler on the control-plane node.

    `index` is the node's position among the stored nodes (its InternalIP); `seen` the instant the
    kubelet first read the manifests (`kubernetes.io/config.seen`, RFC 3339 with nanoseconds).
    """
    ip = internal_ip(index)
    etcd_pki = f"{_PKI}/etcd"
    certs = [("ca-certs", "/etc/ssl/certs", True), ("k8s-certs", _PKI, True)]
    etcd = _static_pod(
        seed, node, seen, "etcd", ETCD_IMAGE,
        ["etcd", f"--advertise-client-urls=https://{ip}:2379", f"--cert-file={etcd_pki}/server.crt",
         "--client-cert-auth=true", "--data-dir=/var/lib/etcd", "--experimental-initial-corrupt-check=true",
         "--experimental-watch-progress-notify-interval=5s", f"--initial-advertise-peer-urls=https://{ip}:2380",
         f"--initial-cluster={node}=https://{ip}:2380", f"--key-file={etcd_pki}/server.key",
         f"--listen-client-urls=https://127.0.0.1:2379,https://{ip}:2379",
         "--listen-metrics-urls=http://127.0.0.1:2381", f"--listen-peer-urls=https://{ip}:2380", f"--name={node}",
         f"--peer-cert-file={etcd_pki}/peer.crt", "--peer-client-cert-auth=true",
         f"--peer-key-file={etcd_pki}/peer.key", f"--peer-trusted-ca-file={etcd_pki}/ca.crt",
         "--snapshot-count=10000", f"--trusted-ca-file={etcd_pki}/ca.crt"],
        "100m", ("/health?exclude=NOSPACE&serializable=true", 2381, "127.0.0.1", "HTTP"),
        [("etcd-certs", etcd_pki, False), ("etcd-data", "/var/lib/etcd", False)],
        {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{ip}:2379"}, memory="100Mi")
    apiserver = _static_pod(
        seed, node, seen, "kube-apiserver", APISERVER_IMAGE,
        ["kube-apiserver", f"--advertise-address={ip}", "--allow-privileged=true", "--authorization-mode=Node,RBAC",
         f"--client-ca-file={_PKI}/ca.crt", "--enable-admission-plugins=NodeRestriction",
         "--enable-bootstrap-token-auth=true", f"--etcd-cafile={etcd_pki}/ca.crt",
         f"--etcd-certfile={_PKI}/apiserver-etcd-client.crt", f"--etcd-keyfile={_PKI}/apiserver-etcd-client.key",
         "--etcd-servers=https://127.0.0.1:2379", "--runtime-config=", "--secure-port=6443",
         "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
         f"--service-account-key-file={_PKI}/sa.pub", f"--service-account-signing-key-file={_PKI}/sa.key",
         "--service-cluster-ip-range=10.96.0.0/16", f"--tls-cert-file={_PKI}/apiserver.crt",
         f"--tls-private-key-file={_PKI}/apiserver.key"],
        "250m", ("/livez", 6443, ip, "HTTPS"), certs,
        {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{ip}:6443"})
    manager = _static_pod(
        seed, node, seen, "kube-controller-manager", CONTROLLER_MANAGER_IMAGE,
        ["kube-controller-manager", "--allocate-node-cidrs=true",
         "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
         "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf", "--bind-address=127.0.0.1",
         f"--client-ca-file={_PKI}/ca.crt", "--cluster-cidr=10.244.0.0/16", "--cluster-name=kind",
         f"--cluster-signing-cert-file={_PKI}/ca.crt", f"--cluster-signing-key-file={_PKI}/ca.key",
         "--controllers=*,bootstrapsigner,tokencleaner", "--enable-hostpath-provisioner=true",
         "--kubeconfig=/etc/kubernetes/controller-manager.conf", "--leader-elect=true",
         f"--root-ca-file={_PKI}/ca.crt", f"--service-account-private-key-file={_PKI}/sa.key",
         "--service-cluster-ip-range=10.96.0.0/16", "--use-service-account-credentials=true"],
        "200m", ("/healthz", 10257, "127.0.0.1", "HTTPS"),
        [*certs, ("kubeconfig", "/etc/kubernetes/controller-manager.conf", True)])
    scheduler = _static_pod(
        seed, node, seen, "kube-scheduler", SCHEDULER_IMAGE,
        ["kube-scheduler", "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
         "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf", "--bind-address=127.0.0.1",
         "--kubeconfig=/etc/kubernetes/scheduler.conf", "--leader-elect=true"],
        "100m", ("/healthz", 10259, "127.0.0.1", "HTTPS"),
        [("kubeconfig", "/etc/kubernetes/scheduler.conf", True)])
    return [etcd, apiserver, manager, scheduler]

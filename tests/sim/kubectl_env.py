"""Test helpers: run the real kubectl against a served state, and a hand-built sample cluster.

Each kubectl run gets its own HOME and KUBECACHEDIR (under the caller's folder), so no user
config or discovery cache leaks in, and a request timeout so a server bug fails fast.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from atlas_sre.sim.clock import SimClock, parse_time
from atlas_sre.sim.state import ClusterState, LogKey, Usage

KUBECTL = shutil.which("kubectl")
ANCHOR = parse_time("2026-01-01T12:00:00Z")
NS = "shop"


Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """kubectl's stdout, after asserting it succeeded (its stderr is the failure message)."""
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_kubectl(kubeconfig: str | Path, *args: str, env_home: str | Path, timeout: float = 30,
                check: bool = False, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`kubectl --kubeconfig K --request-timeout=5s ARGS` with an isolated HOME and cache."""
    if KUBECTL is None:
        raise RuntimeError("kubectl is not installed")
    home = Path(env_home)
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(HOME=str(home), KUBECACHEDIR=str(home / "kube-cache"), KUBECONFIG=str(kubeconfig))
    env.update(extra_env or {})
    cmd = [KUBECTL, f"--kubeconfig={kubeconfig}", "--request-timeout=5s", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=check)


@contextmanager
def kubectl_on_scenario(scenario: str, home: Path, now: str = "2026-01-01T12:00:00Z") -> Iterator[Kubectl]:
    """Serve a built-in scenario observed at `now`; yield `kubectl ARGS…` against it (skip without kubectl)."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    from atlas_sre.scenarios.serving import build_state  # scenarios sit above sim: only these tests need it
    from atlas_sre.sim.api.serve import SimServer

    state, ns = build_state(scenario, now)
    with SimServer(state, namespace=ns) as server:
        yield lambda *args, **kw: run_kubectl(server.kubeconfig_path, *args, env_home=home, **kw)


def app_logs(sim: Any, home: Path, state: ClusterState, app: str, container: str, namespace: str = NS) -> list[str]:
    """`kubectl logs POD -c CONTAINER --tail=500` lines of every pod of `app` (`<app>-…`) in `namespace`."""
    out: list[str] = []
    for pod in state.find("Pod", namespace):
        if pod["metadata"]["name"].startswith(app + "-"):
            got = run_kubectl(sim.kubeconfig_path, "logs", pod["metadata"]["name"], "-n", namespace, "-c", container,
                              "--tail=500", env_home=home)
            assert got.returncode == 0, got.stderr
            out += got.stdout.splitlines()
    return out


def _md(clock: SimClock, kind: str, name: str, at: datetime, ns: str | None = NS, **extra: Any) -> dict:
    md: dict[str, Any] = {"name": name}
    if ns:
        md["namespace"] = ns
    md["uid"] = f"uid-{kind.lower()}-{name}"
    md["resourceVersion"] = str(1000 + len(name) + len(kind))
    md["creationTimestamp"] = clock.iso(at)
    md.update(extra)
    return md


def _container_status(name: str, image: str, state: dict, ready: bool, restarts: int = 0,
                      last: dict | None = None) -> dict:
    cs = {"name": name, "image": image, "imageID": "", "ready": ready, "restartCount": restarts, "state": state,
          "lastState": last or {}, "started": "running" in state}
    if "running" in state:
        cs["containerID"] = f"containerd://{name}"
    return cs


def sample_state(anchor: datetime = ANCHOR) -> ClusterState:
    """A small cluster covering what the API must serve: running, crash-looping, image-pull pods."""
    start = parse_time("2026-11-26T08:00:00Z")
    clock = SimClock(start, start + timedelta(minutes=80), start + timedelta(hours=2), anchor)
    t0, fault, now = clock.start, clock.fault_at, clock.observe_at
    state = ClusterState(clock=clock)
    add = state.objects.append
    add({"apiVersion": "v1", "kind": "Namespace", "metadata": _md(clock, "Namespace", NS, t0, None),
         "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
    add({"apiVersion": "v1", "kind": "Node",
         "metadata": _md(clock, "Node", "worker-1", t0, None, labels={"kubernetes.io/hostname": "worker-1"}),
         "status": {"capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                    "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "nodeInfo": {"architecture": "amd64", "bootID": "b1", "containerRuntimeVersion": "containerd://1.7.24",
                                 "kernelVersion": "6.1.0", "kubeProxyVersion": "v1.32.4", "kubeletVersion": "v1.32.4",
                                 "machineID": "m1", "operatingSystem": "linux", "osImage": "Ubuntu 24.04",
                                 "systemUUID": "s1"}}})
    labels = {"app": "web", "pod-template-hash": "5d9c7b8f6c"}
    template = {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "example.io/web:1.0"},
                                        {"name": "istio-proxy", "image": "istio/proxyv2:1.24.0"}]}}
    add({"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": _md(clock, "Deployment", "web", t0, labels={"app": "web"},
                         annotations={"deployment.kubernetes.io/revision": "1"}),
         "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template,
                  "strategy": {"type": "RollingUpdate"}},
         "status": {"replicas": 3, "readyReplicas": 1, "updatedReplicas": 3, "availableReplicas": 1}})
    add({"apiVersion": "apps/v1", "kind": "ReplicaSet",
         "metadata": _md(clock, "ReplicaSet", "web-5d9c7b8f6c", t0, labels=labels,
                         annotations={"deployment.kubernetes.io/revision": "1"},
                         ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                           "uid": "uid-deployment-web", "controller": True}]),
         "spec": {"replicas": 3, "selector": {"matchLabels": labels}, "template": template},
         "status": {"replicas": 3, "readyReplicas": 1, "availableReplicas": 1}})
    pod_specs = {
        "web-5d9c7b8f6c-abcde": ("running", 0),
        "web-5d9c7b8f6c-crash": ("crash", 7),
        "web-5d9c7b8f6c-pullx": ("pull", 0),
    }
    for i, (pod, (kind, restarts)) in enumerate(pod_specs.items()):
        running = {"running": {"startedAt": clock.iso(t0 + timedelta(minutes=1))}}
        if kind == "running":
            state_, last, ready = running, None, True
        elif kind == "crash":
            state_ = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed"}}
            last = {"terminated": {"exitCode": 1, "reason": "Error", "containerID": "containerd://old",
                                   "startedAt": clock.iso(now - timedelta(minutes=3)),
                                   "finishedAt": clock.iso(now - timedelta(minutes=2))}}
            ready = False
        else:
            state_ = {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}
            last, ready = None, False
        statuses = [_container_status("web", "example.io/web:1.0", state_, ready, restarts, last),
                    _container_status("istio-proxy", "istio/proxyv2:1.24.0", running, True)]
        add({"apiVersion": "v1", "kind": "Pod",
             "metadata": _md(clock, "Pod", pod, t0 + timedelta(seconds=i), labels=labels,
                             annotations={"kubectl.kubernetes.io/default-container": "web"},
                             ownerReferences=[{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                               "name": "web-5d9c7b8f6c", "uid": "uid-replicaset-web-5d9c7b8f6c",
                                               "controller": True}]),
             "spec": {"nodeName": "worker-1", **template["spec"]},
             "status": {"phase": "Running" if kind != "pull" else "Pending", "podIP": f"10.244.0.{i + 10}",
                        "hostIP": "10.0.0.1", "startTime": clock.iso(t0),
                        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                        "containerStatuses": statuses}})
    pods = [o for o in state.objects if o["kind"] == "Pod"]
    add({"apiVersion": "v1", "kind": "Service", "metadata": _md(clock, "Service", "web", t0, labels={"app": "web"}),
         "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "selector": {"app": "web"},
                  "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}})
    add({"apiVersion": "v1", "kind": "Endpoints", "metadata": _md(clock, "Endpoints", "web", t0),
         "subsets": [{"addresses": [{"ip": "10.244.0.10"}], "ports": [{"name": "http", "port": 8080}]}]})
    add({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": _md(clock, "EndpointSlice", "web-x7k2p", t0, labels={"kubernetes.io/service-name": "web"}),
         "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
         "endpoints": [{"addresses": ["10.244.0.10"], "conditions": {"ready": True}}]})
    for o in (("ConfigMap", "web-config", {"data": {"LOG_LEVEL": "info"}}),
              ("Secret", "web-secret", {"type": "Opaque", "data": {"token": "c2VjcmV0"}})):
        add({"apiVersion": "v1", "kind": o[0], "metadata": _md(clock, o[0], o[1], t0), **o[2]})
    add({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _md(clock, "PVC", "data", t0),
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
         "status": {"phase": "Pending"}})
    add({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _md(clock, "ResourceQuota", "compute", t0),
         "spec": {"hard": {"pods": "10"}}, "status": {"hard": {"pods": "10"}, "used": {"pods": "3"}}})
    add({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": _md(clock, "HPA", "web", t0),
         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                  "minReplicas": 1, "maxReplicas": 5}, "status": {"currentReplicas": 3, "desiredReplicas": 3}})
    add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": _md(clock, "NetworkPolicy", "deny-all", t0), "spec": {"podSelector": {}}})
    add({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
         "metadata": _md(clock, "VirtualService", "web", fault),
         "spec": {"hosts": ["web"], "http": [{"route": [{"destination": {"host": "web", "subset": "v2"}}]}]}})
    add({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
         "metadata": _md(clock, "DestinationRule", "web", t0),
         "spec": {"host": "web", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}})
    add({"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": _md(clock, "Gateway", "shop-gw", t0),
         "spec": {"selector": {"istio": "ingressgateway"}}})
    add({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
         "metadata": _md(clock, "PeerAuthentication", "default", t0), "spec": {"mtls": {"mode": "STRICT"}}})
    add({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
         "metadata": _md(clock, "AuthorizationPolicy", "deny-web", fault), "spec": {"action": "DENY"}})
    _events(state, pods, t0, now)
    _logs(state, t0, now)
    state.pod_usage[(NS, "web-5d9c7b8f6c-abcde")] = {"web": Usage(120, 200), "istio-proxy": Usage(5, 40)}
    state.node_usage["worker-1"] = Usage(900, 3000)
    return state


def _event(state: ClusterState, obj: dict, reason: str, message: str, first: datetime, last: datetime,
           count: int, type_: str, component: str) -> None:
    clock = state.clock
    md = obj["metadata"]
    state.objects.append({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{md['name']}.{reason.lower()}", "namespace": NS, "uid": f"ev-{md['name']}-{reason}",
                     "resourceVersion": "2000", "creationTimestamp": clock.iso(first)},
        "involvedObject": {"kind": obj["kind"], "namespace": NS, "name": md["name"], "uid": md["uid"],
                           "apiVersion": obj["apiVersion"]},
        "reason": reason, "message": message, "source": {"component": component},
        "firstTimestamp": clock.iso(first), "lastTimestamp": clock.iso(last), "count": count, "type": type_,
        "eventTime": None, "reportingComponent": component, "reportingInstance": ""})


def _events(state: ClusterState, pods: list[dict], t0: datetime, now: datetime) -> None:
    crash, pull = pods[1], pods[2]
    _event(state, crash, "BackOff", "Back-off restarting failed container web in pod web-5d9c7b8f6c-crash_shop",
           now - timedelta(minutes=40), now - timedelta(seconds=64), 31, "Warning", "kubelet")
    _event(state, pull, "Failed", 'Failed to pull image "example.io/web:1.0": not found',
           now - timedelta(minutes=30), now - timedelta(minutes=1), 12, "Warning", "kubelet")
    deploy = next(o for o in state.objects if o["kind"] == "Deployment")
    _event(state, deploy, "ScalingReplicaSet", "Scaled up replica set web-5d9c7b8f6c from 0 to 3",
           t0, t0, 1, "Normal", "deployment-controller")


def _logs(state: ClusterState, t0: datetime, now: datetime) -> None:
    ok = LogKey(NS, "web-5d9c7b8f6c-abcde", "web")
    for i in range(5):
        state.add_log(ok, now - timedelta(minutes=5 - i), f"INFO request {i} served 200")
    state.add_log(LogKey(NS, "web-5d9c7b8f6c-abcde", "istio-proxy"), now - timedelta(minutes=1),
                  '[2026-11-26T09:59:00.000Z] "GET /health HTTP/1.1" 200 - via_upstream')
    prev = LogKey(NS, "web-5d9c7b8f6c-crash", "web", previous=True)
    state.add_log(prev, now - timedelta(minutes=3), "starting web")
    state.add_log(prev, now - timedelta(minutes=2, seconds=1), "FATAL missing env DATABASE_URL")

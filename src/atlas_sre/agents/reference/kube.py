"""How kubectl output is laid out and how Kubernetes names things: generic conventions, no rules.

The reference student's observer reads tables and command shapes through these helpers: which kind
of output a command line produces, `kubectl get pods` rows, and the owner a pod's name implies.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from atlas_sre.kube.names import SAFE_CHAR as _SAFE
from atlas_sre.kube.namespaces import SYSTEM_NAMESPACES as SYSTEM_NAMESPACES

MESH_WIDE_KINDS = frozenset({"AuthorizationPolicy", "PeerAuthentication", "Gateway", "Sidecar", "EnvoyFilter"})
# Kubernetes names ReplicaSets `<deployment>-<pod-template-hash>` and their pods `<rs>-<5 chars>`, both drawn
# from rand.SafeEncodeString's alphabet (no vowels, no 0/1/3), which also tells them from CronJob pods.
DEPLOYMENT_POD = re.compile(rf"^(?P<owner>.+)-(?P<hash>{_SAFE}{{6,10}})-{_SAFE}{{5}}$")
_JOB_POD = re.compile(rf"^(?P<owner>.+-\d{{8,}})-{_SAFE}{{5}}$")  # CronJob → Job `<cronjob>-<minutes>` → pod
_STATEFUL_POD = re.compile(r"^(?P<owner>.+)-\d+$")
_RESOURCE_WORDS = {"po": "pod", "pods": "pod", "pod": "pod", "svc": "service", "services": "service",
                   "service": "service", "ep": "endpoints", "endpoints": "endpoints", "no": "nodes", "node": "nodes",
                   "nodes": "nodes", "ev": "events", "events": "events", "event": "events"}
_UNHEALTHY = ("CrashLoopBackOff", "Error", "OOMKilled", "ImagePullBackOff", "ErrImagePull",
              "CreateContainerConfigError", "Init:", "Pending", "ContainerCreating", "RunContainerError", "StartError",
              "Terminating", "Unknown")


# A restart older than this, on a pod that is running and ready now, is history, not a current failure:
# a crash-looping container restarts at least every ~5 minutes (kubelet's back-off cap), and a cluster
# keeps the events that explain a restart for one hour, so an SRE reads an older one as settled.
STALE_RESTART_S = 3600.0
_DURATION_PART = re.compile(r"(\d+)([smhdy])")
_DURATION_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}


@dataclass
class PodRow:
    namespace: str
    name: str
    ready: int
    total: int
    status: str
    restarts: int
    last_restart_s: float | None = None  # from kubectl's `3 (4h28m ago)`; None when not shown

    @property
    def unhealthy(self) -> bool:
        return any(self.status.startswith(s) for s in _UNHEALTHY)

    @property
    def recent_restarts(self) -> int:
        """Restarts that may still matter: all of them, unless the pod runs ready and the last is stale."""
        settled = (not self.unhealthy and self.ready == self.total and self.last_restart_s is not None
                   and self.last_restart_s >= STALE_RESTART_S)
        return 0 if settled else self.restarts

    @property
    def abnormal(self) -> bool:
        """Something is wrong now: a bad status, a container not ready, or a restart that is not history."""
        return self.unhealthy or self.ready < self.total or self.recent_restarts > 0

    @property
    def badness(self) -> tuple[int, int, int]:
        """Sort key, worst first: unhealthy status, not ready, recent restarts."""
        return (0 if self.unhealthy else 1, 0 if self.ready < self.total else 1, -self.recent_restarts)


def duration_s(text: str) -> float | None:
    """kubectl's human duration (`45s`, `4h28m`, `2d3h`) in seconds; None if it is not one."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return float(sum(int(n) * _DURATION_S[u] for n, u in parts))


@dataclass
class Command:
    """A command line read for its shape: source kind, subject object and namespace."""

    line: str
    source: str
    subject: str | None
    namespace: str | None

    @classmethod
    def parse(cls, line: str) -> Command:
        try:
            words = shlex.split(line.split("|")[0])
        except ValueError:
            words = line.split()
        ns = next((words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-n", "--namespace")), None)
        ns = ns or next((w.split("=", 1)[1] for w in words if w.startswith("--namespace=")), None)
        plain = [w for i, w in enumerate(words) if not w.startswith("-") and (i == 0 or words[i - 1] not in
                                                                             ("-n", "--namespace", "-c", "-o", "-l"))]
        if words[:1] == ["analyze"]:
            return cls(line, "analyze", None, ns)
        verb = plain[1] if len(plain) > 1 else ""
        kind = _RESOURCE_WORDS.get(plain[2].lower(), plain[2].lower()) if len(plain) > 2 else ""
        subject = plain[3] if len(plain) > 3 else None
        if verb == "logs":
            source = "proxy_logs" if "istio-proxy" in words else "logs"
            return cls(line, source, plain[2] if len(plain) > 2 else None, ns)
        if verb == "describe":
            return cls(line, "describe_pod" if kind == "pod" else "describe", subject, ns)
        if verb == "events" or (verb == "get" and kind == "events"):
            return cls(line, "events", None, ns)
        if verb == "get" and ("yaml" in words or "-oyaml" in words):
            return cls(line, "yaml", subject, ns)
        if verb == "get" and kind in ("pod", "endpoints", "nodes", "service"):
            return cls(line, {"pod": "get_pods", "service": "services"}.get(kind, kind), subject, ns)
        return cls(line, "other", subject, ns)


def owner_by_name(namespace: str, pod: str) -> str:
    """The workload a pod belongs to by Kubernetes naming conventions (Deployment, StatefulSet), else the pod."""
    m = DEPLOYMENT_POD.match(pod)
    if m:
        return f"{namespace}/Deployment/{m['owner']}"
    m = _JOB_POD.match(pod)
    if m:
        return f"{namespace}/Job/{m['owner']}"
    m = _STATEFUL_POD.match(pod)
    if m:
        return f"{namespace}/StatefulSet/{m['owner']}"
    return f"{namespace}/Pod/{pod}"


_LAST_RESTART = re.compile(r" \((\w+) ago\)")


def parse_pods(text: str, default_ns: str) -> list[PodRow]:
    """Rows of a `kubectl get pods` table (with or without the NAMESPACE column)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or "NAME" not in lines[0] or "STATUS" not in lines[0]:
        return []
    header = lines[0].split()
    rows = []
    for ln in lines[1:]:
        last = _LAST_RESTART.search(ln)  # `1 (4h28m ago)` spans three cells: read it, then drop it
        cells = _LAST_RESTART.sub("", ln).split()
        row = dict(zip(header, cells, strict=False))
        try:
            ready, total = (int(x) for x in row.get("READY", "0/0").split("/"))
            restarts = int(row.get("RESTARTS", "0"))
        except ValueError:
            continue
        rows.append(PodRow(row.get("NAMESPACE", default_ns), row["NAME"], ready, total, row.get("STATUS", ""),
                           restarts, duration_s(last.group(1)) if last else None))
    return rows


def parse_services(text: str, default_ns: str) -> dict[tuple[str, str], set[int]]:
    """(namespace, name) → service ports of a `kubectl get services` table (`9080/TCP`, `80:30080/TCP`)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or "NAME" not in lines[0] or "PORT(S)" not in lines[0]:
        return {}
    header = lines[0].split()
    out: dict[tuple[str, str], set[int]] = {}
    for ln in lines[1:]:
        row = dict(zip(header, ln.split(), strict=False))
        ports = {int(m) for m in re.findall(r"(?:^|,)(\d+)(?=[:/])", row.get("PORT(S)", ""))}
        out[(row.get("NAMESPACE", default_ns), row["NAME"])] = ports
    return out

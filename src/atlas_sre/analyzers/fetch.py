"""Building a Snapshot through kubectl: the same read-only path an agent's commands take.

Why so few calls: one `kubectl get <every kind> -A -o json` returns one List, so the analyzers see
one consistent view and a real cluster is asked once. Istio kinds are included only when the API
serves them (checked with `kubectl api-resources -o name`; if that fails, an unknown type named in
kubectl's error is dropped and the get retried). Secret *contents* are never read (the command
policy refuses it anyway): a table listing gives namespace/name, which is all Gateway credential
checks need. Logs are read last, only those the analyzers ask for, bounded in pods and lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence

from atlas_sre.analyzers.snapshot import LogRequest, Snapshot

Kubectl = Callable[[Sequence[str]], tuple[int, str, str]]
"""`kubectl(args) -> (exit_code, stdout, stderr)`, e.g. `ToolContext.kubectl`."""

# fmt: off
# (resource name as `kubectl get` takes it, Kind of its objects): one list drives both the request
# and FETCHED_KINDS, so a snapshot built from objects (tests, bench) can hold exactly what a real
# fetch would.
CORE: tuple[tuple[str, str], ...] = (
    ("namespaces", "Namespace"), ("nodes", "Node"), ("pods", "Pod"), ("services", "Service"),
    ("endpoints", "Endpoints"), ("events", "Event"), ("configmaps", "ConfigMap"),
    ("serviceaccounts", "ServiceAccount"), ("persistentvolumeclaims", "PersistentVolumeClaim"),
    ("resourcequotas", "ResourceQuota"), ("deployments.apps", "Deployment"),
    ("replicasets.apps", "ReplicaSet"),
    ("statefulsets.apps", "StatefulSet"), ("daemonsets.apps", "DaemonSet"), ("jobs.batch", "Job"),
    ("cronjobs.batch", "CronJob"), ("horizontalpodautoscalers.autoscaling", "HorizontalPodAutoscaler"),
    ("networkpolicies.networking.k8s.io", "NetworkPolicy"),
)
ISTIO: tuple[tuple[str, str], ...] = (
    ("virtualservices.networking.istio.io", "VirtualService"),
    ("destinationrules.networking.istio.io", "DestinationRule"),
    ("gateways.networking.istio.io", "Gateway"), ("serviceentries.networking.istio.io", "ServiceEntry"),
    ("sidecars.networking.istio.io", "Sidecar"),
    ("peerauthentications.security.istio.io", "PeerAuthentication"),
    ("authorizationpolicies.security.istio.io", "AuthorizationPolicy"),
)
# fmt: on
CORE_TYPES: tuple[str, ...] = tuple(t for t, _ in CORE)
ISTIO_TYPES: tuple[str, ...] = tuple(t for t, _ in ISTIO)
FETCHED_KINDS: frozenset[str] = frozenset(k for _, k in (*CORE, *ISTIO))
MAX_LOG_PODS = 12
LOG_TAIL = 200
_UNKNOWN_TYPE = re.compile(r'doesn\'t have a resource type "([^"]+)"')


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "no output")


def served_types(kubectl: Kubectl) -> set[str] | None:
    """Resource names the API serves (`deployments.apps`, `pods`), None if discovery failed."""
    try:
        code, out, _ = kubectl(["api-resources", "-o", "name"])
    except PermissionError:
        return None
    if code != 0:
        return None
    return {ln.strip() for ln in out.splitlines() if ln.strip()}


def _wanted(served: set[str] | None) -> list[str]:
    if served is None:
        return [*CORE_TYPES, *ISTIO_TYPES]
    return [t for t in (*CORE_TYPES, *ISTIO_TYPES) if t in served]


def list_objects(kubectl: Kubectl, types: list[str], errors: list[str]) -> tuple[list[dict], list[str]]:
    """`kubectl get TYPES -A -o json` items and the types finally asked for.

    Types the server rejects ("doesn't have a resource type") are dropped and the call retried.
    """
    types = list(types)
    for _ in range(len(ISTIO_TYPES) + 2):
        if not types:
            return [], types
        code, out, err = kubectl(["get", ",".join(types), "-A", "-o", "json"])
        if code == 0:
            try:
                data = json.loads(out or "{}")
            except json.JSONDecodeError as exc:
                errors.append(f"kubectl get returned invalid JSON: {exc}")
                return [], types
            return [o for o in data.get("items") or [] if isinstance(o, dict)], types
        missing = _UNKNOWN_TYPE.search(err)
        if missing is None:
            errors.append(f"kubectl get {','.join(types)}: {_first_line(err)}")
            return [], types
        gone = missing.group(1)
        kept = [t for t in types if t != gone and t.split(".")[0] != gone]
        if kept == types:
            errors.append(f"kubectl get: {_first_line(err)}")
            return [], types
        types = kept
    return [], types


def list_secret_names(kubectl: Kubectl, errors: list[str]) -> set[tuple[str, str]] | None:
    """(namespace, name) of every Secret, from the table listing (never their contents)."""
    try:
        code, out, err = kubectl(["get", "secrets", "-A", "--no-headers"])
    except PermissionError as exc:
        errors.append(f"secrets not listed: {exc}")
        return None
    if code != 0:
        errors.append(f"secrets not listed: {_first_line(err)}")
        return None
    names = set()
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 2:
            names.add((cols[0], cols[1]))
    return names


def read_logs(
    kubectl: Kubectl, requests: Iterable[LogRequest], errors: list[str], max_pods: int = MAX_LOG_PODS
) -> dict[LogRequest, list[str]]:
    """The requested container logs, at most `max_pods` of them, each `--tail`-bounded."""
    out: dict[LogRequest, list[str]] = {}
    for req in sorted(set(requests))[:max_pods]:
        try:
            code, text, err = kubectl(
                [
                    "logs",
                    req.pod,
                    "-n",
                    req.namespace,
                    "-c",
                    req.container,
                    f"--tail={max(1, min(req.tail, 1000))}",
                ]
            )
        except PermissionError as exc:
            errors.append(f"logs {req.namespace}/{req.pod}: {exc}")
            continue
        if code == 0:
            out[req] = text.splitlines()
        else:
            errors.append(f"logs {req.namespace}/{req.pod} -c {req.container}: {_first_line(err)}")
    return out


def fetch_snapshot(
    kubectl: Kubectl,
    *,
    secrets: bool = True,
    log_requests: Callable[[Snapshot], list[LogRequest]] | None = None,
    max_log_pods: int = MAX_LOG_PODS,
) -> Snapshot:
    """Read the cluster through `kubectl` into a Snapshot (objects, secret names, requested logs)."""
    errors: list[str] = []
    served = served_types(kubectl)
    objects, types = list_objects(kubectl, _wanted(served), errors)
    istio = any(t in ISTIO_TYPES for t in types)
    names = list_secret_names(kubectl, errors) if secrets else None
    snap = Snapshot(objects=objects, secret_names=names, errors=errors, istio_served=istio)
    if log_requests is not None and objects:
        snap.logs = read_logs(kubectl, log_requests(snap), errors, max_log_pods)
    return snap

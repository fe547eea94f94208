"""Typed, bounded checks of the manifest fields the simulator computes with.

Manifests stay plain dicts (any Kubernetes object may appear), but every field the simulator reads
has a declared shape here: a mapping of known keys, a list of items, or a leaf check from
`fieldtypes`. Keys not listed are left alone (the simulator ignores them); a listed key whose
value has the wrong shape or is out of range is refused with its path, so `validate` refuses what
would crash or stall `serve`. `pods_requested` bounds the pods a scenario asks for in all.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterator, Mapping
from typing import Any

from atlas_sre.scenarios.fieldtypes import (
    INT32,
    base64_value,
    boolean,
    dns_label,
    int_or_percent,
    integer,
    is_int,
    label_key,
    label_value,
    number,
    object_name,
    one_of,
    port,
    port_or_name,
    quantity,
    regex,
    text,
)
from atlas_sre.scenarios.limits import MAX_FORMAT_WIDTH, MAX_INT, MAX_NODES, MAX_PODS, MAX_REPLICAS
from atlas_sre.scenarios.model import scenario_time
from atlas_sre.sim.images import ImageBehaviour

Loc = tuple[str | int, ...]
Schema = Any  # dict (mapping of keys; "*" = every value), list [item schema], or a leaf check

SECONDS = integer(0, INT32)
COUNT = integer(0, MAX_REPLICAS)
TEXT = text()
TEXTS = [TEXT]
STR_MAP = {"*": TEXT}
LABELS = "labels"  # marker: label keys and values are checked
RESOURCES = {"*": quantity}
SELECTOR = {"matchLabels": LABELS, "matchExpressions": [{
    "key": TEXT, "operator": one_of("In", "NotIn", "Exists", "DoesNotExist"), "values": TEXTS}]}
NODE_TERM = {"matchExpressions": [{"key": TEXT, "operator": one_of("In", "NotIn", "Exists", "DoesNotExist",
                                                                    "Gt", "Lt"), "values": TEXTS}],
             "matchFields": [{"key": TEXT, "operator": TEXT, "values": TEXTS}]}
POD_TERM = {"labelSelector": SELECTOR, "namespaceSelector": SELECTOR, "namespaces": TEXTS, "topologyKey": TEXT}
POD_AFFINITY = {"requiredDuringSchedulingIgnoredDuringExecution": [POD_TERM],
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": integer(1, 100),
                                                                     "podAffinityTerm": POD_TERM}]}
AFFINITY = {
    "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [NODE_TERM]},
                     "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": integer(1, 100),
                                                                          "preference": NODE_TERM}]},
    "podAffinity": POD_AFFINITY, "podAntiAffinity": POD_AFFINITY,
}
PROBE = {
    "httpGet": {"path": TEXT, "port": port_or_name, "scheme": TEXT, "host": TEXT},
    "tcpSocket": {"port": port_or_name}, "grpc": {"port": port}, "exec": {"command": TEXTS},
    "initialDelaySeconds": SECONDS, "periodSeconds": SECONDS, "timeoutSeconds": SECONDS,
    "failureThreshold": SECONDS, "successThreshold": SECONDS, "terminationGracePeriodSeconds": SECONDS,
}
KEY_REF = {"name": TEXT, "key": TEXT, "optional": boolean}
CONTAINER = {
    "name": dns_label, "image": text(4096), "command": TEXTS, "args": TEXTS, "workingDir": TEXT,
    "ports": [{"containerPort": port, "hostPort": port, "name": port_or_name,
               "protocol": one_of("TCP", "UDP", "SCTP")}],
    "env": [{"name": TEXT, "value": TEXT, "valueFrom": {
        "configMapKeyRef": KEY_REF, "secretKeyRef": KEY_REF, "fieldRef": {"fieldPath": TEXT},
        "resourceFieldRef": {"resource": TEXT, "containerName": TEXT, "divisor": quantity}}}],
    "envFrom": [{"prefix": TEXT, "configMapRef": {"name": TEXT, "optional": boolean},
                 "secretRef": {"name": TEXT, "optional": boolean}}],
    "resources": {"requests": RESOURCES, "limits": RESOURCES},
    "readinessProbe": PROBE, "livenessProbe": PROBE, "startupProbe": PROBE,
    "volumeMounts": [{"name": TEXT, "mountPath": TEXT, "subPath": TEXT, "readOnly": boolean}],
    "imagePullPolicy": one_of("Always", "IfNotPresent", "Never"), "restartPolicy": one_of("Always"),
}
VOLUME = {"name": TEXT, "configMap": {"name": TEXT, "optional": boolean, "items": [{"key": TEXT, "path": TEXT}]},
          "secret": {"secretName": TEXT, "optional": boolean, "items": [{"key": TEXT, "path": TEXT}]},
          "persistentVolumeClaim": {"claimName": TEXT, "readOnly": boolean}, "projected": {"sources": [dict]}}
POD_SPEC = {
    "containers": [CONTAINER], "initContainers": [CONTAINER], "volumes": [VOLUME],
    "nodeName": TEXT, "nodeSelector": STR_MAP, "affinity": AFFINITY,
    "tolerations": [{"key": TEXT, "operator": one_of("Exists", "Equal"), "value": TEXT, "effect": TEXT,
                     "tolerationSeconds": integer(-MAX_INT, MAX_INT)}],
    "topologySpreadConstraints": [{"maxSkew": integer(1, INT32), "topologyKey": TEXT, "whenUnsatisfiable": TEXT,
                                   "labelSelector": SELECTOR}],
    "restartPolicy": one_of("Always", "OnFailure", "Never"), "terminationGracePeriodSeconds": SECONDS,
    "activeDeadlineSeconds": integer(1, INT32), "priority": integer(-INT32 - 1, INT32),
    "priorityClassName": TEXT, "serviceAccountName": TEXT, "serviceAccount": TEXT, "hostNetwork": boolean,
    "automountServiceAccountToken": boolean, "subdomain": TEXT, "hostname": TEXT, "dnsPolicy": TEXT,
    "dnsConfig": {"nameservers": TEXTS, "searches": TEXTS}, "readinessGates": [{"conditionType": TEXT}],
}
TEMPLATE = {"metadata": {"labels": LABELS, "annotations": STR_MAP}, "spec": POD_SPEC}
PVC_SPEC = {"accessModes": TEXTS, "resources": {"requests": RESOURCES, "limits": RESOURCES},
            "storageClassName": TEXT, "volumeName": TEXT, "volumeMode": TEXT}
ROLLING = {"maxSurge": int_or_percent, "maxUnavailable": int_or_percent, "partition": COUNT}
WORKLOAD = {
    "replicas": COUNT, "selector": SELECTOR, "template": TEMPLATE, "minReadySeconds": SECONDS,
    "progressDeadlineSeconds": integer(1, INT32), "revisionHistoryLimit": SECONDS, "paused": boolean,
    "strategy": {"type": one_of("RollingUpdate", "Recreate"), "rollingUpdate": ROLLING},
    "updateStrategy": {"type": TEXT, "rollingUpdate": ROLLING}, "serviceName": TEXT,
    "podManagementPolicy": TEXT, "volumeClaimTemplates": [{"metadata": {"name": TEXT}, "spec": PVC_SPEC}],
}
JOB = {"parallelism": COUNT, "completions": COUNT, "backoffLimit": COUNT, "activeDeadlineSeconds": integer(1, INT32),
       "ttlSecondsAfterFinished": SECONDS, "suspend": boolean, "manualSelector": boolean, "selector": SELECTOR,
       "template": TEMPLATE, "completionMode": TEXT}
HISTORY_LIMIT = integer(0, 1000)
SERVICE_PORT = {"name": TEXT, "port": port, "targetPort": port_or_name, "nodePort": port,
                "protocol": one_of("TCP", "UDP", "SCTP"), "appProtocol": TEXT}
ISTIO_DEST = {"host": TEXT, "subset": TEXT, "port": {"number": port}}
TRAFFIC_POLICY = {
    "connectionPool": {"tcp": {"maxConnections": SECONDS, "connectTimeout": TEXT},
                       "http": {"http1MaxPendingRequests": SECONDS, "http2MaxRequests": SECONDS,
                                "maxRequestsPerConnection": SECONDS, "maxRetries": SECONDS}},
    "outlierDetection": {"consecutive5xxErrors": SECONDS, "consecutiveGatewayErrors": SECONDS,
                         "consecutiveErrors": SECONDS, "interval": TEXT, "baseEjectionTime": TEXT,
                         "maxEjectionPercent": integer(0, 100)},
    "tls": {"mode": TEXT}, "loadBalancer": dict,
}
TRAFFIC_POLICY["portLevelSettings"] = [dict(TRAFFIC_POLICY, port={"number": port})]
PERCENT = {"value": number(0, 100)}
HTTP_ROUTE = {
    "match": [dict], "route": [{"destination": ISTIO_DEST, "weight": integer(0, 100)}],
    "retries": {"attempts": integer(0, 1000), "perTryTimeout": TEXT, "retryOn": TEXT}, "timeout": TEXT,
    "fault": {"delay": {"fixedDelay": TEXT, "percentage": PERCENT, "percent": integer(0, 100)},
              "abort": {"httpStatus": integer(100, 599), "percentage": PERCENT, "percent": integer(0, 100)}},
}
NP_PEER = {"podSelector": SELECTOR, "namespaceSelector": SELECTOR, "ipBlock": {"cidr": TEXT, "except": TEXTS}}
NP_RULE = {"from": [NP_PEER], "to": [NP_PEER], "ports": [{"port": port_or_name, "endPort": port, "protocol": TEXT}]}

# Per kind: the object's fields below `metadata` (checked for every kind).
KINDS: dict[str, Schema] = {
    "Deployment": {"spec": WORKLOAD}, "ReplicaSet": {"spec": WORKLOAD}, "StatefulSet": {"spec": WORKLOAD},
    "DaemonSet": {"spec": WORKLOAD},
    "Pod": {"spec": POD_SPEC},
    "Job": {"spec": JOB},
    "CronJob": {"spec": {"schedule": text(256), "timeZone": text(64), "suspend": boolean,
                         "concurrencyPolicy": one_of("Allow", "Forbid", "Replace"),
                         "successfulJobsHistoryLimit": HISTORY_LIMIT, "failedJobsHistoryLimit": HISTORY_LIMIT,
                         "startingDeadlineSeconds": SECONDS,
                         "jobTemplate": {"metadata": {"labels": LABELS, "annotations": STR_MAP}, "spec": JOB}}},
    "Service": {"spec": {"selector": LABELS, "ports": [SERVICE_PORT], "type": one_of(
        "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"), "clusterIP": TEXT, "clusterIPs": TEXTS,
        "externalName": TEXT, "externalIPs": TEXTS, "publishNotReadyAddresses": boolean}},
    "HorizontalPodAutoscaler": {"spec": {
        "minReplicas": integer(1, MAX_REPLICAS), "maxReplicas": integer(1, MAX_REPLICAS),
        "scaleTargetRef": {"apiVersion": TEXT, "kind": TEXT, "name": TEXT},
        "targetCPUUtilizationPercentage": integer(1, 1_000_000),
        "metrics": [{"type": TEXT, "resource": {"name": TEXT, "target": {
            "type": TEXT, "averageUtilization": integer(1, 1_000_000), "averageValue": quantity,
            "value": quantity}}}]}},
    "Node": {"spec": {"unschedulable": boolean, "podCIDR": TEXT, "taints": [{
        "key": TEXT, "value": TEXT, "effect": one_of("NoSchedule", "PreferNoSchedule", "NoExecute")}]},
        "status": {"capacity": RESOURCES, "allocatable": RESOURCES, "addresses": [{"type": TEXT, "address": TEXT}],
                   "conditions": [{"type": TEXT, "status": one_of("True", "False", "Unknown"),
                                   "reason": TEXT, "message": TEXT}]}},
    "Secret": {"data": {"*": base64_value}, "stringData": STR_MAP, "type": TEXT, "immutable": boolean},
    "ConfigMap": {"data": STR_MAP, "binaryData": {"*": base64_value}, "immutable": boolean},
    "PersistentVolumeClaim": {"spec": PVC_SPEC},
    "PersistentVolume": {"spec": {"capacity": RESOURCES, "accessModes": TEXTS, "storageClassName": TEXT,
                                  "claimRef": {"name": TEXT, "namespace": TEXT}}},
    "ResourceQuota": {"spec": {"hard": RESOURCES, "scopes": TEXTS}},
    "LimitRange": {"spec": {"limits": [{"type": TEXT, "default": RESOURCES, "defaultRequest": RESOURCES,
                                        "max": RESOURCES, "min": RESOURCES}]}},
    "NetworkPolicy": {"spec": {"podSelector": SELECTOR, "policyTypes": TEXTS, "ingress": [NP_RULE],
                               "egress": [NP_RULE]}},
    "PriorityClass": {"value": integer(-INT32 - 1, 1_000_000_000), "globalDefault": boolean,
                      "preemptionPolicy": TEXT},
    "VirtualService": {"spec": {"hosts": TEXTS, "gateways": TEXTS, "http": [HTTP_ROUTE],
                                "tcp": [{"match": [dict], "route": [{"destination": ISTIO_DEST,
                                                                     "weight": integer(0, 100)}]}]}},
    "DestinationRule": {"spec": {"host": TEXT, "trafficPolicy": TRAFFIC_POLICY,
                                 "subsets": [{"name": TEXT, "labels": LABELS, "trafficPolicy": TRAFFIC_POLICY}]}},
    "Gateway": {"spec": {"selector": STR_MAP, "servers": [{"port": {"number": port, "name": TEXT, "protocol": TEXT},
                                                          "hosts": TEXTS}]}},
    "ServiceEntry": {"spec": {"hosts": TEXTS, "addresses": TEXTS, "location": TEXT, "resolution": TEXT,
                              "ports": [{"number": port, "name": TEXT, "protocol": TEXT, "targetPort": port}],
                              "endpoints": [{"address": TEXT, "ports": {"*": port}, "labels": STR_MAP}]}},
    "Sidecar": {"spec": {"workloadSelector": {"labels": LABELS}, "egress": [{"hosts": TEXTS, "port": {
        "number": port}}], "outboundTrafficPolicy": {"mode": TEXT}}},
    "PeerAuthentication": {"spec": {"selector": {"matchLabels": LABELS}, "mtls": {"mode": TEXT},
                                    "portLevelMtls": {"*": {"mode": TEXT}}}},
    "AuthorizationPolicy": {"spec": {"selector": {"matchLabels": LABELS}, "action": TEXT, "rules": [dict]}},
}
METADATA = {"name": object_name, "namespace": dns_label, "labels": LABELS, "annotations": STR_MAP,
            "generateName": TEXT, "ownerReferences": [{"apiVersion": TEXT, "kind": TEXT, "name": TEXT,
                                                       "uid": TEXT, "controller": boolean}]}
DNS_LABEL_KINDS = {"Namespace", "Service"}  # their names become DNS labels


def _kind_of(value: Any) -> str:
    return "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else repr(value)[:40]


def walk(value: Any, schema: Schema, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Problems of `value` against `schema` (None values are absent fields and pass)."""
    if value is None:
        return
    if schema is dict:
        if not isinstance(value, dict):
            yield loc, f"must be a mapping, got {_kind_of(value)}"
        return
    if schema == LABELS:
        if not isinstance(value, dict):
            yield loc, f"labels must be a mapping of strings, got {_kind_of(value)}"
            return
        for k, v in value.items():
            problem = label_key(k) or label_value(v)
            if problem:
                yield loc + (str(k),), problem
        return
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            yield loc, f"must be a mapping, got {_kind_of(value)}"
            return
        for key, sub in value.items():
            child = schema.get(key, schema.get("*"))
            if child is not None:
                yield from walk(sub, child, loc + (str(key),))
        return
    if isinstance(schema, list):
        if not isinstance(value, list):
            yield loc, f"must be a list, got {_kind_of(value)}"
            return
        for i, item in enumerate(value):
            if item is None:
                yield loc + (i,), "a list entry must not be null"
            else:
                yield from walk(item, schema[0], loc + (i,))
        return
    problem = schema(value)
    if problem:
        yield loc, problem


def numbers(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Every number in a tree is finite and fits int64 (JSON on the API has no NaN or 1e400)."""
    stack: list[tuple[Any, Loc]] = [(value, loc)]
    while stack:
        v, where = stack.pop()
        if isinstance(v, dict):
            stack.extend((sub, where + (str(k),)) for k, sub in v.items())
        elif isinstance(v, list):
            stack.extend((sub, where + (i,)) for i, sub in enumerate(v))
        elif isinstance(v, float) and not math.isfinite(v):
            yield where, f"must be a finite number, got {v!r}"
        elif is_int(v) and abs(v) > MAX_INT:
            yield where, "integer does not fit in 64 bits"


def regexes(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Every `regex:` string match (Istio's StringMatch) is a regex the simulator can evaluate."""
    stack: list[tuple[Any, Loc]] = [(value, loc)]
    while stack:
        v, where = stack.pop()
        if isinstance(v, dict):
            for k, sub in v.items():
                if k == "regex":
                    problem = regex(sub)
                    if problem:
                        yield where + (k,), problem
                else:
                    stack.append((sub, where + (str(k),)))
        elif isinstance(v, list):
            stack.extend((sub, where + (i,)) for i, sub in enumerate(v))


def check_fields(obj: dict[str, Any], loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Problems in one manifest's typed fields (shape, range, syntax)."""
    yield from numbers(obj, loc)
    yield from walk(obj.get("metadata"), METADATA, loc + ("metadata",))
    kind = obj.get("kind")
    if kind in DNS_LABEL_KINDS:
        name = (obj.get("metadata") or {}).get("name")
        problem = dns_label(name) if isinstance(name, str) else None
        if problem:
            yield loc + ("metadata", "name"), f"{kind} name {problem}"
    schema = KINDS.get(str(kind))
    if schema is not None:
        yield from walk({k: v for k, v in obj.items() if k in schema}, schema, loc)
    yield from regexes(obj, loc)
    if kind == "HorizontalPodAutoscaler":
        spec = obj.get("spec") or {}
        lo, hi = spec.get("minReplicas", 1), spec.get("maxReplicas")
        if is_int(lo) and is_int(hi) and lo > hi:
            yield loc + ("spec", "minReplicas"), f"minReplicas {lo} is greater than maxReplicas {hi}"


def _count(value: Any, default: int) -> int:
    return value if is_int(value) and value >= 0 else default


def pods_requested(manifests: list[dict[str, Any]]) -> tuple[int, int]:
    """(pods the workloads ask for at most, declared nodes): replicas, HPA maxima, Job pods,
    DaemonSets on every node, bare Pods. An upper bound, which is what a cap needs."""
    nodes = sum(1 for m in manifests if m.get("kind") == "Node") or 1
    hpa_max = {((m.get("metadata") or {}).get("namespace"), ((m.get("spec") or {}).get("scaleTargetRef") or {}
                                                            ).get("name")): _count((m.get("spec") or {}).get(
                "maxReplicas"), 0) for m in manifests if m.get("kind") == "HorizontalPodAutoscaler"}
    total = 0
    for m in manifests:
        kind, spec = m.get("kind"), m.get("spec") if isinstance(m.get("spec"), dict) else {}
        key = ((m.get("metadata") or {}).get("namespace"), (m.get("metadata") or {}).get("name"))
        if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
            total += max(_count(spec.get("replicas"), 1), hpa_max.get(key, 0))
        elif kind == "DaemonSet":
            total += nodes + 1  # kubeadm's control-plane node too
        elif kind == "Job":
            total += max(_count(spec.get("parallelism"), 1), _count(spec.get("completions"), 1)) + _count(
                spec.get("backoffLimit"), 6)
        elif kind == "Pod":
            total += 1
    return total, nodes


def check_sizes(manifests: list[dict[str, Any]]) -> str | None:
    """The scenario-wide caps on pods and nodes (after the app and faults are applied)."""
    pods, nodes = pods_requested(manifests)
    if nodes > MAX_NODES:
        return f"{nodes} Nodes is more than the limit of {MAX_NODES}"
    if pods > MAX_PODS:
        return f"the workloads ask for up to {pods} pods, more than the limit of {MAX_PODS} per scenario"
    return None


# Python's format-spec grammar: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_SPEC = re.compile(r"^(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?[bcdeEfFgGnosxX%]?$", re.S)


def template(value: str) -> str | None:
    """A log template: `{field:spec}` widths stay small (`{status:>999999999}` would exhaust memory).

    JSON log lines (`{"level":30}`) are not valid format specs and the simulator substitutes
    their `{name}` placeholders literally, so only specs Python would apply are bounded.
    """
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError:
        return None  # not a format string: the simulator substitutes `{name}` literally
    for _, field, spec, _ in parts:
        m = _SPEC.match(spec or "") if field is not None else None
        if m and any(d and (len(d) > 6 or int(d) > MAX_FORMAT_WIDTH) for d in m.groups()):
            return f"format width above {MAX_FORMAT_WIDTH} in {value[:60]!r}"
    return None


def check_registry(registry: Mapping[str, ImageBehaviour], loc: Loc) -> Iterator[tuple[Loc, str]]:
    """What the image models cannot say alone: regexes, log templates, episode times."""
    for image, b in registry.items():
        where = loc + (image,)
        for i, req in enumerate(b.requires):
            if req.matches is not None and (problem := regex(req.matches)):
                yield where + ("requires", i, "matches"), problem
            if problem := template(req.log):
                yield where + ("requires", i, "log"), problem
        for i, ep in enumerate(b.episodes):
            try:
                scenario_time(ep.at)
            except ValueError as exc:
                yield where + ("episodes", i, "at"), str(exc)
            if ep.log and (problem := template(ep.log)):
                yield where + ("episodes", i, "log"), problem
        texts: list[tuple[Loc, str | None]] = [(("onDependencyError", "log"), b.onDependencyError.log),
                                              (("logs", "request"), b.logs.request), (("logs", "ready"), b.logs.ready),
                                              (("exit", "log"), b.exit.log if b.exit else None)]
        texts += [(("logs", "startup", i), line) for i, line in enumerate(b.logs.startup)]
        for sub, value in texts:
            if value and (problem := template(value)):
                yield where + sub, problem

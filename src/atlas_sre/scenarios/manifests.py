"""Structural checks on plain Kubernetes/Istio manifests, before anything is simulated.

Kubernetes' API server would reject these objects on create; a scenario that contains them is a
broken scenario, not an incident, so the loader reports them with a located error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from atlas_sre.scenarios.fields import check_fields

Loc = tuple[str | int, ...]

CLUSTER_SCOPED = {
    "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
    "PriorityClass", "CustomResourceDefinition", "IngressClass",
}
SELECTOR_KINDS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}
POD_TEMPLATE_KINDS = SELECTOR_KINDS | {"Job"}


def _pod_spec_problems(spec: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if not isinstance(spec, dict):
        yield loc, "pod spec must be a mapping"
        return
    containers = spec.get("containers")
    if not containers or not isinstance(containers, list):
        yield loc, "pod spec has no containers"
        return
    for key in ("initContainers", "containers"):
        seen: set[str] = set()
        for i, c in enumerate(spec.get(key) or []):
            if not isinstance(c, dict) or not c.get("name"):
                yield loc + (key, i), "container has no name"
            elif not c.get("image"):
                yield loc + (key, i), f"container {c['name']!r} has no image"
            elif c["name"] in seen:
                yield loc + (key, i), f"duplicate container name {c['name']!r}"
            else:
                seen.add(c["name"])


def _selector_problems(obj: dict[str, Any], loc: Loc) -> Iterator[tuple[Loc, str]]:
    kind = obj["kind"]
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        yield loc, f"{kind} has no spec.selector"
        return
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            yield loc + ("spec", "template", "metadata", "labels"), (
                f"selector does not match template labels: {k}={v} is missing"
            )
            return


def check_manifests(manifests: list[dict[str, Any]], prefix: Loc = ()) -> Iterator[tuple[Loc, str]]:
    """Yield `(location, message)` for every manifest the Kubernetes API would refuse."""
    seen: dict[tuple[str, str, str], int] = {}
    for i, obj in enumerate(manifests):
        loc = prefix + (i,)
        if not isinstance(obj, dict):
            yield loc, "manifest must be a mapping"
            continue
        kind, api = obj.get("kind"), obj.get("apiVersion")
        if not kind or not api:
            yield loc, "manifest needs apiVersion and kind"
            continue
        if not isinstance(kind, str) or not isinstance(api, str):
            yield loc, "apiVersion and kind must be strings"
            continue
        md = obj.get("metadata")
        if not isinstance(md, dict) or not md.get("name"):
            yield loc + ("metadata",), f"{kind} has no metadata.name"
            continue
        problems = list(check_fields(obj, loc))
        if problems:  # the checks below assume the shapes checked there
            yield from problems
            continue
        if kind in CLUSTER_SCOPED and md.get("namespace"):
            yield loc + ("metadata", "namespace"), f"{kind} is cluster-scoped and takes no namespace"
        key = (kind, md.get("namespace") or "", md["name"])
        if key in seen:
            yield loc, f"duplicate {kind} {md['name']!r} (also spec.manifests[{seen[key]}])"
        seen[key] = i
        if kind in SELECTOR_KINDS:
            yield from _selector_problems(obj, loc)
        if kind in POD_TEMPLATE_KINDS:
            tmpl = (obj.get("spec") or {}).get("template") or {}
            yield from _pod_spec_problems(tmpl.get("spec"), loc + ("spec", "template", "spec"))
        if kind == "Pod":
            yield from _pod_spec_problems(obj.get("spec"), loc + ("spec",))
        if kind == "Service":
            for j, port in enumerate((obj.get("spec") or {}).get("ports") or []):
                if not isinstance(port, dict) or "port" not in port:
                    yield loc + ("spec", "ports", j), "service port has no port number"

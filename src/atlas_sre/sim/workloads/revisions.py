"""ControllerRevisions: the template history the DaemonSet and StatefulSet controllers keep.

Both controllers snapshot each pod template they roll out as a ControllerRevision named
`<owner>-<hash>` (the hash the pods carry in `controller-revision-hash`), numbered from 1 and
owned by the workload; `kubectl rollout history ds/x` and `sts/x` list them. A template changed
in the scenario's history yields two: the previous template (revision 1, at the workload's birth)
and the current one (revision 2, at the change). `data` holds the template as the controllers'
strategic-merge patch (`$patch: replace`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.objects.index import add_object, index_of
from atlas_sre.sim.objects.meta import born, clone, entity, owner_ref, stamp
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.daemonsets import revision_hash
from atlas_sre.sim.workloads.defaults import default_workload


def _templates(spec: SimSpec, state: ClusterState, obj: Obj) -> list[tuple[dict[str, Any], datetime]]:
    """(template, when first rolled out), oldest first."""
    md = obj["metadata"]
    current = obj["spec"]["template"]
    change = spec.history.get(entity(obj["kind"], md["namespace"], md["name"]))
    if change is None or not change.previous or change.at > state.clock.observe_at:
        return [(current, born(state, obj))]
    previous = clone(change.previous)
    previous.setdefault("kind", obj["kind"])
    previous.setdefault("spec", {}).setdefault("template", clone(current))
    default_workload(previous)
    before = previous["spec"]["template"]
    if ids.digest(before) == ids.digest(current):
        return [(current, born(state, obj))]
    return [(before, born(state, obj)), (current, change.at)]


def _revision(spec: SimSpec, state: ClusterState, obj: Obj, template: dict[str, Any], number: int,
              at: datetime) -> Obj:
    md = obj["metadata"]
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    if obj["kind"] == "DaemonSet":
        suffix = revision_hash(spec.seed, template)
        labels["controller-revision-hash"] = suffix
        annotations = {"deprecated.daemonset.template.generation": str(number)}
    else:  # the StatefulSet controller's naming (statefulsets._Creator.revision)
        suffix = ids.pod_template_hash(spec.seed, template)
        labels["controller.kubernetes.io/hash"] = suffix
        annotations = {}
    rev: Obj = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                "metadata": {"name": f"{md['name']}-{suffix}", "namespace": md["namespace"], "labels": labels,
                             **({"annotations": annotations} if annotations else {}),
                             "ownerReferences": [owner_ref(obj)]},
                "data": {"spec": {"template": {"$patch": "replace", **clone(template)}}},
                "revision": number}
    return stamp(state, spec.seed, rev, at)


def record_revisions(spec: SimSpec, state: ClusterState) -> None:
    """Store the ControllerRevisions of every DaemonSet and StatefulSet (declared ones are kept)."""
    idx = index_of(state)
    for kind in ("DaemonSet", "StatefulSet"):
        for obj in idx.list(kind):
            for number, (template, at) in enumerate(_templates(spec, state, obj), start=1):
                rev = _revision(spec, state, obj, template, number, at)
                if idx.get("ControllerRevision", rev["metadata"]["namespace"], rev["metadata"]["name"]) is None:
                    add_object(state, rev)

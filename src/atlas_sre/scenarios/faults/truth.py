"""Ground truth implied by an applied fault: root cause, alias group, propagation up the call graph.

Written from the same topology the traffic engine follows, so the propagation edges are the path
errors really take: broken component → each caller that needs it → … → the entry service.
"""

from __future__ import annotations

from atlas_sre.grading.truth import GroundTruth, TruthPropagation, TruthRootCause
from atlas_sre.scenarios.faults.base import Fault, Impact, Parts, Ref, ref_of
from atlas_sre.scenarios.faults.topology import callers, image_of, pod_spec, services_of

MAX_EDGES = 18


def component_aliases(parts: Parts, workload: Ref) -> list[str]:
    """A component = its workload, the Services selecting it, and its pods/ReplicaSets (globs)."""
    out = [str(workload)]
    obj = parts.find(workload)
    if obj is not None:
        out += [str(ref_of(s)) for s in services_of(parts, obj)]
    ns = workload.namespace
    out += [f"{ns}/Pod/{workload.name}-*", f"{ns}/ReplicaSet/{workload.name}-*"]
    return out


def _front(parts: Parts, workload: Ref) -> Ref:
    """The entity callers know a workload by: its first Service, else the workload itself."""
    obj = parts.find(workload)
    svcs = services_of(parts, obj) if obj is not None else []
    return ref_of(svcs[0]) if svcs else workload


def _upstream(parts: Parts, start: Ref) -> list[TruthPropagation]:
    """Edges from `start` to every caller that depends on it, breadth-first, up to the entry."""
    edges: list[TruthPropagation] = []
    queue, seen = [start], {start}
    while queue and len(edges) < MAX_EDGES:
        current = queue.pop(0)
        for dep in callers(parts, current):
            caller = _front(parts, dep.caller)
            if caller == current:
                continue
            obj = parts.find(dep.caller)
            status = None
            for c in pod_spec(obj).get("containers") or [] if obj else []:
                b = image_of(parts, c)
                if b and c["name"] == dep.container:
                    status = b.onDependencyError.status
            if dep.call.required:
                effect = f"{caller.name} answers {status or 'errors'} to its callers"
            else:
                effect = f"{caller.name} degrades ({current.name} is optional)"
            edge = TruthPropagation(source=str(current), target=str(caller),
                               condition=f"calls from {dep.caller.name} to {current.name} fail", effect=effect)
            if all((e.source, e.target) != (edge.source, edge.target) for e in edges):
                edges.append(edge)
            if dep.call.required and caller not in seen:
                seen.add(caller)
                queue.append(caller)
    return edges


def truth_for(parts: Parts, fault: Fault, impact: Impact) -> GroundTruth:
    """The ground truth block for one applied fault."""
    root = str(impact.root)
    aliases = [root] + [str(r) for r in impact.related]
    if impact.component is not None:
        aliases += component_aliases(parts, impact.component)
    elif impact.root.kind in ("Deployment", "StatefulSet"):
        aliases += component_aliases(parts, impact.root)
    group = list(dict.fromkeys(aliases))
    edges: list[TruthPropagation] = []
    if impact.impacted is not None and impact.impacted != impact.root:
        edges.append(TruthPropagation(source=root, target=str(impact.impacted), condition=impact.condition,
                                 effect=impact.effect))
    start = impact.impacted or impact.root
    edges += _upstream(parts, start) if start.kind == "Service" else []
    return GroundTruth(
        rootCauses=[TruthRootCause(entity=root, category=fault.category, condition=impact.condition)],
        aliases=[group] if len(group) > 1 else [],
        propagation=edges[:MAX_EDGES],
    )


def merge_truths(truths: list[GroundTruth]) -> GroundTruth:
    """Two-fault incidents: both root causes, both alias groups, the union of edges (first wins)."""
    out = GroundTruth()
    for t in truths:
        out.rootCauses += [r for r in t.rootCauses if r not in out.rootCauses]
        out.aliases += [a for a in t.aliases if a not in out.aliases]
        for e in t.propagation:
            if all((e.source, e.target) != (x.source, x.target) for x in out.propagation):
                out.propagation.append(e)
    return out

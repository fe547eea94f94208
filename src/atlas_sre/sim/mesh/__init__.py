"""Service-mesh and traffic semantics: Istio sidecars, request routing, access logs, metrics, alerts.

Plugs into the engine through `stages(workload_stages)`, which returns the workload stages with
the mesh stages inserted by name (see `stages.py` for what each does):

    materialize*  run_controllers  schedule  kubelet_stage  reconcile_endpoints
    rollup  mesh_traffic  reconcile_hpa  rollup_node_usage  mesh_alerts

(* wrapped so it also stores the Istio control plane when the scenario uses the mesh, and registers
the sidecar injector as a mutating admission webhook: pods carry their sidecar from creation.)

Outputs in `state.extras`: `registry` (with Istio's images), `mesh_metrics` (istio_requests_total
-like rows), `mesh_entrypoints` (what users saw per entry point), `mesh_load` (rps per pod and
container), `mesh_traffic` (the before/after ledgers), `alerts` (firing alerts). Logs go to
`state.logs` (istio-proxy access logs, app request and dependency-error lines).
"""

from __future__ import annotations

from atlas_sre.sim.engine import Stage
from atlas_sre.sim.mesh.stages import mesh_alerts, mesh_traffic, register_injector, with_control_plane
from atlas_sre.sim.mesh.traffic import default_entrypoints, evaluate
from atlas_sre.sim.mesh.world import World

__all__ = ["World", "default_entrypoints", "evaluate", "mesh_alerts", "mesh_traffic", "register_injector",
           "stages", "with_control_plane"]


def _index(names: list[str], exact: tuple[str, ...], contains: tuple[str, ...] = ()) -> int | None:
    for want in exact:
        if want in names:
            return names.index(want)
    for i, name in enumerate(names):
        if any(c in name for c in contains):
            return i
    return None


def stages(workload: list[Stage]) -> list[Stage]:
    """The workload stages with the mesh stages inserted (anchors found by function name)."""
    out = list(workload)
    if not out:
        return [mesh_traffic, mesh_alerts]
    names = [s.__name__ for s in out]
    first = _index(names, ("materialize",), ("materializ",))
    out[first or 0] = with_control_plane(out[first or 0])
    rollup = _index(names, ("rollup",), ("endpoint",))
    hpa = _index(names, ("reconcile_hpa",), ("hpa",))
    where = rollup + 1 if rollup is not None else (hpa if hpa is not None else len(out))
    out.insert(where, mesh_traffic)
    out.append(mesh_alerts)
    return out

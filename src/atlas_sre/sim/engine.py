"""The derivation pipeline: objects + behaviour + clock → the observed cluster.

Each stage is a plain function `(spec, state) -> None` that reads what earlier stages produced
and adds its own derived objects, statuses, events, logs and usage. The engine owns the order;
nothing here knows which scenario it is running.
"""

from __future__ import annotations

from atlas_sre.sim.kubelet.stage import kubelet_stage
from atlas_sre.sim.mesh.stages import mesh_alerts, mesh_traffic, with_control_plane
from atlas_sre.sim.scheduler.core import schedule
from atlas_sre.sim.state import ClusterState, SimSpec, Stage
from atlas_sre.sim.workloads.controllers import run_controllers
from atlas_sre.sim.workloads.endpoints import reconcile_endpoints
from atlas_sre.sim.workloads.hpa import reconcile_hpa
from atlas_sre.sim.workloads.materialize import materialize
from atlas_sre.sim.workloads.nodelifecycle import mark_lost_pods
from atlas_sre.sim.workloads.rollup import rollup
from atlas_sre.sim.workloads.usage import rollup_node_usage

__all__ = ["Stage", "default_stages", "derive"]


def default_stages() -> list[Stage]:
    """The stages, in order (why each sits where it does is in sim/README.md)."""
    return [
        with_control_plane(materialize),  # manifests (+ Istio's control plane), then arm sidecar injection
        run_controllers,  # Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs create pods
        schedule,  # the scheduler binds pods to nodes
        kubelet_stage,  # containers run: statuses, restarts, logs, events, usage
        mark_lost_pods,  # the node lifecycle controller marks pods on lost nodes
        reconcile_endpoints,  # Endpoints and EndpointSlices from ready pods
        rollup,  # workload statuses and conditions from their pods
        mesh_traffic,  # requests through the mesh: access logs, metrics, request-driven CPU
        reconcile_hpa,  # the HPA reads pod usage (including the traffic's CPU)
        rollup_node_usage,  # node usage from pod usage
        mesh_alerts,  # firing alerts from metrics and object state
    ]


def derive(spec: SimSpec, stages: list[Stage] | None = None) -> ClusterState:
    """Run every stage over a fresh state; deterministic for a given spec."""
    state = ClusterState(clock=spec.clock)
    for stage in stages if stages is not None else default_stages():
        stage(spec, state)
    return state

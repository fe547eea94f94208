"""The derivation pipeline: objects + behaviour + clock → the observed cluster.

Each stage is a plain function `(spec, state) -> None` that reads what earlier stages produced
and adds its own derived objects, statuses, events, logs and usage. New semantics (the mesh,
traffic, alerts) plug in as stages; nothing here knows which scenario it is running.
"""

from __future__ import annotations

from collections.abc import Callable

from atlas_sre.sim.state import ClusterState, SimSpec

Stage = Callable[[SimSpec, ClusterState], None]


def default_stages() -> list[Stage]:
    """The stages, in order. Imported lazily so each stage module stays independent."""
    from atlas_sre.sim.workloads import stages as workload_stages

    stages: list[Stage] = list(workload_stages())
    try:
        from atlas_sre.sim.mesh import stages as mesh_stages
    except ImportError:  # the mesh room is optional until it lands
        return stages
    return mesh_stages(stages)


def derive(spec: SimSpec, stages: list[Stage] | None = None) -> ClusterState:
    """Run every stage over a fresh state; deterministic for a given spec."""
    state = ClusterState(clock=spec.clock)
    for stage in stages if stages is not None else default_stages():
        stage(spec, state)
    return state

"""The fault catalogue: reusable injectors, each a change to objects or behaviour plus its ground truth.

Ids follow ITBench's where one exists. `get_fault(id)` finds one (an unknown id lists the valid
ones); `CATALOGUE` maps every id to its `Fault`. See docs/faults.md for the table.
"""

from __future__ import annotations

from atlas_sre.scenarios.faults import (
    mesh_auth,
    mesh_retries,
    mesh_routing,
    mesh_security,
    mesh_traffic,
    network,
    service,
    workload_config,
    workload_image,
    workload_init,
    workload_probes,
    workload_resources,
    workload_saturation,
    workload_scheduling,
)
from atlas_sre.scenarios.faults.base import Fault, FaultArgs, FaultError, Impact, Parts, Ref, Signature

_MODULES = [workload_image, workload_config, workload_resources, workload_probes, workload_scheduling,
            workload_init, service, network, mesh_routing, mesh_traffic, mesh_security, mesh_auth,
            mesh_retries, workload_saturation]

CATALOGUE: dict[str, Fault] = {f.id: f for m in _MODULES for f in m.FAULTS}


def fault_ids() -> list[str]:
    """Every catalogue id, sorted."""
    return sorted(CATALOGUE)


def get_fault(fault_id: str) -> Fault:
    """The fault with this id; an unknown id is a one-line error listing the valid ones."""
    try:
        return CATALOGUE[fault_id]
    except KeyError:
        raise FaultError(f"unknown fault {fault_id!r} (known: {', '.join(fault_ids())})") from None


__all__ = ["CATALOGUE", "Fault", "FaultArgs", "FaultError", "Impact", "Parts", "Ref", "Signature", "fault_ids",
           "get_fault"]

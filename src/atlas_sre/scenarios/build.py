"""Expand a scenario: start from its built-in app, add its own objects, apply its fault injectors.

`compile.to_sim_spec` calls `apply_app_and_faults` whenever a scenario names an `app` or lists
`faults`. The result is a scenario with plain manifests and registry only (idempotent: no app, no
faults left), plus the history of every object a fault changed, so the engine can start symptoms
at `clock.faultAt` without ever learning that a fault happened by name.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from atlas_sre.grading.truth import GroundTruth
from atlas_sre.scenarios.apps import load_app
from atlas_sre.scenarios.faults import get_fault
from atlas_sre.scenarios.faults.base import Fault, FaultError, Impact, Parts, Ref, ref_of
from atlas_sre.scenarios.faults.truth import merge_truths, truth_for
from atlas_sre.scenarios.model import Scenario
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.state import Change


def merge_manifests(base: list[dict[str, Any]], extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`base` with `extra` laid over it: same identity replaces in place, new objects are appended."""
    out = copy.deepcopy(base)
    index = {ref_of(o): i for i, o in enumerate(out)}
    for obj in copy.deepcopy(extra):
        i = index.get(ref_of(obj))
        if i is None:
            index[ref_of(obj)] = len(out)
            out.append(obj)
        else:
            out[i] = obj
    return out


def base_parts(scenario: Scenario) -> Parts:
    """The scenario's objects before any fault: the app's parts (if any) plus the scenario's own."""
    spec = scenario.spec
    manifests, registry, traffic = [], {}, {}
    if spec.app:
        app = load_app(spec.app)
        manifests, registry, traffic = app.manifests, dict(app.registry), dict(app.traffic)
    manifests = merge_manifests(manifests, spec.manifests)
    registry.update({k: v.model_copy(deep=True) for k, v in spec.registry.items()})
    traffic.update(copy.deepcopy(spec.traffic))
    return Parts(manifests=manifests, registry=registry, traffic=traffic, fault_at=parse_time(spec.clock.faultAt))


def apply_faults(scenario: Scenario, parts: Parts) -> list[tuple[Fault, Impact]]:
    """Apply the scenario's faults in order; errors name the fault's position and id in one line."""
    done: list[tuple[Fault, Impact]] = []
    for i, ref in enumerate(scenario.spec.faults):
        where = f"spec.faults[{i}] ({ref.id})"
        try:
            fault = get_fault(ref.id)
            if not ref.target:
                raise FaultError(f"a {fault.target_kind} target is required")
            target = Ref.parse(ref.target)
            if target.kind != fault.target_kind:
                raise FaultError(f"target {ref.target} is a {target.kind}, this fault targets a {fault.target_kind}")
            args = fault.validate_args(ref.args)
            rng = random.Random(f"{scenario.spec.seed}:{i}:{ref.id}")
            done.append((fault, fault.apply(parts, target, args, rng)))
        except FaultError as exc:
            raise FaultError(f"{where}: {exc}") from None
    parts.prune()
    return done


def apply_app_and_faults(scenario: Scenario) -> tuple[Scenario, dict[str, Change]]:
    """The expanded scenario and `{"ns/Kind/name": Change(at=faultAt, previous=...)}` for every fault edit.

    Ground truth is filled from the faults when the scenario does not state its own.
    """
    parts = base_parts(scenario)
    healthy = copy.deepcopy(parts)
    applied = apply_faults(scenario, parts)
    truth = scenario.spec.groundTruth
    if applied and not truth.rootCauses:
        truth = _truth(healthy, applied)
    spec = scenario.spec.model_copy(update={
        "app": None, "faults": [], "manifests": parts.manifests, "registry": parts.registry,
        "traffic": parts.traffic, "groundTruth": truth})
    return scenario.model_copy(update={"spec": spec}), dict(parts.changes)


def _truth(healthy: Parts, applied: list[tuple[Fault, Impact]]) -> GroundTruth:
    # Aliases and propagation follow the healthy call graph: a fault that deletes a Service or
    # rewrites a selector still broke the edges that existed before it.
    return merge_truths([truth_for(healthy, fault, impact) for fault, impact in applied])


def implied_truth(scenario: Scenario) -> GroundTruth:
    """The ground truth the scenario's faults imply (what the generator writes into each file)."""
    parts = base_parts(scenario)
    healthy = copy.deepcopy(parts)
    applied = apply_faults(scenario, parts)
    return _truth(healthy, applied) if applied else GroundTruth()

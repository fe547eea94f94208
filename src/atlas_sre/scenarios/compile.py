"""Turn a loaded Scenario into the simulator's input, keeping hidden parts away from the engine.

Ground truth and the scenario's name never cross this boundary; the engine receives only
manifests, image behaviour, traffic, clock and seed.
"""

from __future__ import annotations

import copy
from datetime import datetime

from atlas_sre.scenarios.build import apply_app_and_faults
from atlas_sre.scenarios.history import declared_history
from atlas_sre.scenarios.model import Scenario
from atlas_sre.sim.clock import SimClock, parse_time
from atlas_sre.sim.state import Change, SimSpec


def scenario_clock(scenario: Scenario, anchor: datetime | None = None) -> SimClock:
    """The scenario's clock, optionally anchored (the observation instant mapped onto `anchor`)."""
    c = scenario.spec.clock
    return SimClock(parse_time(c.start), parse_time(c.faultAt), parse_time(c.observeAt), anchor)


def to_sim_spec(scenario: Scenario, anchor: datetime | None = None) -> SimSpec:
    """Expand the built-in app and apply fault injectors, then hand plain data to the simulator."""
    expanded, history = expand(scenario)
    return SimSpec(
        manifests=copy.deepcopy(expanded.spec.manifests),
        registry=dict(expanded.spec.registry),
        clock=scenario_clock(expanded, anchor),
        seed=expanded.spec.seed,
        traffic=copy.deepcopy(expanded.spec.traffic),
        history=history,
    )


def expand(scenario: Scenario) -> tuple[Scenario, dict[str, Change]]:
    """The scenario with its `app` and `faults` applied, and what changed when: the scenario's own
    `spec.history`, then each fault's edit.

    The scenario itself is unchanged when it has neither an app nor faults.
    """
    if not scenario.spec.app and not scenario.spec.faults:
        return scenario, declared_history(scenario, scenario.spec.manifests)
    expanded, changes = apply_app_and_faults(scenario)
    return expanded, {**declared_history(scenario, expanded.spec.manifests), **changes}  # a fault's edit wins

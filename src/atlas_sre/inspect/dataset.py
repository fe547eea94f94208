"""The dataset: one Inspect `Sample` per scenario, its input the incident briefing and nothing more.

Scenario sets are resolved by the benchmark's own `collect_scenarios` (`builtin`, `core`, `library`,
`generated:N[:SEED]`, folders, files, built-in names), so `-T scenarios=...` means what
`atlas-sre bench --scenarios ...` means. The input is the `Incident` every agent of the project
is told (summary + firing alerts, `Incident.text()`): it is read through the same path
`open_scenario` takes, so the alerts a scenario leaves to the simulator are the simulator's
computed ones. The scenario's name (the sample id) and its file stay in `metadata`, which the
model never sees; they tell the solver what to serve and the scorer what to grade against.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from inspect_ai.dataset import MemoryDataset, Sample

from atlas_sre.bench.config import ScenarioMeta
from atlas_sre.bench.episode import OBSERVED_AT
from atlas_sre.bench.plan import collect_scenarios
from atlas_sre.environments import load_scenario
from atlas_sre.grading.incident import Incident
from atlas_sre.scenarios.compile import to_sim_spec
from atlas_sre.sim.engine import derive
from atlas_sre.sim.mesh.stages import firing_alerts

GENERATED_DIR = Path(tempfile.gettempdir()) / "atlas-sre-inspect"
"""Where `generated:N[:SEED]` sets are written (and reused: the generator is deterministic)."""


def scenario_specs(scenarios: str | list[str]) -> list[str]:
    """`"builtin"`, `"a,b"` or a list → the list of set specs; an empty value is an error."""
    specs = [s.strip() for s in scenarios.split(",")] if isinstance(scenarios, str) else list(scenarios)
    specs = [s for s in specs if s]
    if not specs:
        raise ValueError("scenarios: name a set (builtin, core, library, generated:N), a folder, files or names")
    return specs


def resolve(scenarios: str | list[str]) -> list[ScenarioMeta]:
    """The scenarios named, sorted by name; a name or path that does not exist is a one-line error
    (the catalogue's `ScenarioError`, listing the built-ins)."""
    metas = collect_scenarios(scenario_specs(scenarios), GENERATED_DIR)
    return [metas[n] for n in sorted(metas)]


def briefing(path: str) -> Incident:
    """The incident text the agents see: the scenario's summary and alerts, or, when it lists none,
    the alerts the simulator computes for it (as `open_scenario` does; derived, not served)."""
    scenario = load_scenario(path)
    alerts = [a.model_dump() for a in scenario.spec.incident.alerts]
    if not alerts:
        spec = to_sim_spec(scenario, OBSERVED_AT)
        spec.clock = spec.clock.anchored(OBSERVED_AT, live=False)
        alerts = firing_alerts(derive(spec))
    return Incident.of(scenario.spec.incident.summary, alerts)


def scenario_sample(meta: ScenarioMeta) -> Sample:
    """One scenario as a Sample: id = name, input = the briefing's text; metadata = the briefing's parts
    (for the teaching step) and where the scenario is (to serve it, and for the scorer only)."""
    incident = briefing(meta.path)
    return Sample(id=meta.name, input=incident.text(),
                  metadata={"incident": {"summary": incident.summary, "alerts": [dict(a) for a in incident.alerts]},
                            "scenario": meta.name, "scenario_path": meta.path, "complexity": meta.complexity,
                            "domain": meta.domain})


def scenario_dataset(scenarios: str | list[str]) -> MemoryDataset:
    """The dataset over a scenario set (see the module docstring)."""
    return MemoryDataset([scenario_sample(m) for m in resolve(scenarios)], name="atlas-sre")

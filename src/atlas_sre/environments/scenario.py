"""A scenario served by the simulator for the life of the environment.

Derive the scenario's cluster, serve it read-only on 127.0.0.1 (`SimServer`), and investigate it
through a kubeconfig, exactly as a real cluster: a `ScenarioEnvironment` is a
`KubeconfigEnvironment` that owns its server. It also carries the incident (summary and alerts:
the scenario's own, or, when it lists none, the ones the simulator computed, read through
`sim.mesh.stages.firing_alerts`, never from the file) and, for grading only, the ground truth and
the scenario's name. Those two never reach an agent: the protocol hands agents the `Incident`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from atlas_sre.commands import CommandConfig, CommandRunner, Tool
from atlas_sre.environments.base import ClusterUnavailable
from atlas_sre.environments.kubeconfig import KubeconfigEnvironment
from atlas_sre.grading.extract import ObjectRef, refs_of
from atlas_sre.grading.incident import Incident
from atlas_sre.scenarios.catalog import load
from atlas_sre.scenarios.compile import expand, to_sim_spec
from atlas_sre.scenarios.model import Scenario
from atlas_sre.scenarios.serving import main_namespace
from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.engine import derive
from atlas_sre.sim.mesh.stages import firing_alerts


def load_scenario(scenario: Any) -> Scenario:
    """A Scenario from an object, a path, or a built-in name."""
    if hasattr(scenario, "spec") and hasattr(scenario, "metadata"):
        return scenario  # type: ignore[no-any-return]
    return load(str(scenario))


class ScenarioEnvironment(KubeconfigEnvironment):
    """A served scenario: `execute`, `namespace`, `incident`; `truth` and `name` for grading only."""

    def __init__(self, runner: CommandRunner, server: SimServer, incident: Incident, namespace: str | None,
                 truth: Any, name: str) -> None:
        super().__init__(runner, namespace, incident)
        self.truth = truth
        self.name = name
        self._server: SimServer | None = server

    def served_objects(self) -> list[ObjectRef]:
        """`(namespace, kind, name)` of every served object: what a free-text answer may name
        (`grading.extract`); the object bodies stay behind the API."""
        return refs_of(self._server.state.objects) if self._server is not None else []

    def close(self) -> None:
        super().close()
        if self._server is not None:
            self._server.stop()
            self._server = None


def open_scenario(scenario: Any, *, anchor: datetime | None = None, timeout_s: float = 30.0,
                  tools: Mapping[str, Tool] | None = None) -> ScenarioEnvironment:
    """Derive and serve a scenario (object, path or built-in name) with the given agent tools."""
    loaded = load_scenario(scenario)
    live = anchor is None  # anchored to the wall clock: table ages advance with it
    anchor = anchor or datetime.now(timezone.utc).replace(microsecond=0)
    spec = to_sim_spec(loaded, anchor)
    spec.clock = spec.clock.anchored(anchor, live=live)
    state = derive(spec)
    alerts = [a.model_dump() for a in loaded.spec.incident.alerts] or firing_alerts(state)
    namespace = main_namespace(expand(loaded)[0]) or next(
        (str(a["namespace"]) for a in alerts if a.get("namespace")), None)
    try:
        server = SimServer(state, namespace=namespace).start()
    except OSError as exc:
        raise ClusterUnavailable(f"cannot serve scenario {loaded.metadata.name}: {exc}") from None
    runner = CommandRunner(CommandConfig(kubeconfig=server.kubeconfig_path, namespace=namespace, timeout_s=timeout_s),
                           tools=tools)
    incident = Incident.of(loaded.spec.incident.summary, alerts)
    return ScenarioEnvironment(runner, server, incident, namespace, loaded.spec.groundTruth, loaded.metadata.name)

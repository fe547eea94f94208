"""The cluster an investigation runs against: a scenario served by the simulator, or a kubeconfig.

Both give the protocol the same two things: a `CommandRunner` (the only way commands reach a
cluster; the investigation loop uses it, the protocol never runs commands itself) and the
incident's alerts. For a scenario the alerts are the scenario's own, or, when it lists none, the
ones the simulator computed (`state.extras["alerts"]`), read through `served_alerts`, never from
the file. The ground truth stays here, for grading; it is never handed to an agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from atlas_sre.cluster import CommandConfig, CommandRunner


class ClusterUnavailable(RuntimeError):
    """The cluster cannot be reached or the scenario cannot be served; the message is one line."""


def register_tools() -> None:
    """Make `analyze` available to agents when the analyzers room is installed (idempotent)."""
    try:
        from atlas_sre.analyzers import register_analyze_tool
    except ImportError:  # pragma: no cover - the room ships with the package
        return
    register_analyze_tool()


def served_alerts(state: Any) -> list[dict[str, Any]]:
    """The alerts the simulator derived for a served state (empty when it computed none)."""
    alerts = getattr(state, "extras", {}).get("alerts") or []
    return [dict(a) for a in alerts if isinstance(a, Mapping)]


def load_scenario(scenario: Any) -> Any:
    """A Scenario from an object, a path, or a built-in name."""
    if hasattr(scenario, "spec") and hasattr(scenario, "metadata"):
        return scenario
    from atlas_sre.scenarios.catalog import load

    return load(str(scenario))


@dataclass
class ClusterSession:
    """An open cluster: `runner`, `alerts`, `namespace`, and (scenario only) `truth` and `name`."""

    runner: CommandRunner
    alerts: list[dict[str, Any]] = field(default_factory=list)
    namespace: str | None = None
    truth: Any = None
    name: str | None = None
    summary: str | None = None
    _server: Any = None

    def close(self) -> None:
        self.runner.close()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> ClusterSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_scenario(scenario: Any, *, anchor: datetime | None = None, timeout_s: float = 30.0) -> ClusterSession:
    """Derive and serve a scenario on 127.0.0.1 for the life of the session."""
    from atlas_sre.scenarios.compile import expand, to_sim_spec
    from atlas_sre.sim.engine import derive
    from atlas_sre.sim.serve import SimServer, main_namespace

    loaded = load_scenario(scenario)
    anchor = anchor or datetime.now(timezone.utc).replace(microsecond=0)
    state = derive(to_sim_spec(loaded, anchor))
    alerts = [a.model_dump() for a in loaded.spec.incident.alerts] or served_alerts(state)
    namespace = main_namespace(expand(loaded)[0]) or next(
        (str(a["namespace"]) for a in alerts if a.get("namespace")), None)
    try:
        server = SimServer(state, namespace=namespace).start()
    except OSError as exc:
        raise ClusterUnavailable(f"cannot serve scenario {loaded.metadata.name}: {exc}") from None
    register_tools()
    runner = CommandRunner(CommandConfig(kubeconfig=server.kubeconfig_path, namespace=namespace, timeout_s=timeout_s))
    return ClusterSession(runner, alerts, namespace, loaded.spec.groundTruth, loaded.metadata.name,
                          loaded.spec.incident.summary, server)


def open_kubeconfig(kubeconfig: str | Path | None, context: str | None = None, namespace: str | None = None,
                    *, timeout_s: float = 30.0, check: bool = True) -> ClusterSession:
    """A session on a real (or separately served) cluster; `check` fails fast when it cannot be reached."""
    path = Path(kubeconfig).expanduser() if kubeconfig else None
    if path is not None and not path.is_file():
        raise ClusterUnavailable(f"kubeconfig {path} does not exist")
    register_tools()
    runner = CommandRunner(CommandConfig(kubeconfig=path, context=context, namespace=namespace, timeout_s=timeout_s))
    if check:
        probe = runner.run("kubectl get namespaces")
        if probe.exit_code != 0:
            runner.close()
            first = next((ln for ln in probe.observation.splitlines() if ln.strip()), "no answer")
            raise ClusterUnavailable(f"cannot reach the cluster ({path or 'default kubeconfig'}): {first.strip()}")
    return ClusterSession(runner, [], namespace)

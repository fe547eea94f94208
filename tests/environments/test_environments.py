"""Environments: a served scenario and a kubeconfig cluster behind one `execute(command) -> Observation`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from atlas_sre.commands import CommandResult
from atlas_sre.environments import (
    ClusterUnavailable,
    Environment,
    KubeconfigEnvironment,
    ScenarioEnvironment,
    default_tools,
    load_scenario,
    open_kubeconfig,
    open_scenario,
)

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")


def test_default_tools_are_a_fresh_dict_with_analyze() -> None:
    tools = default_tools()
    assert list(tools) == ["analyze"]
    tools.pop("analyze")
    assert list(default_tools()) == ["analyze"]


def test_a_served_scenario_tells_the_incident_and_keeps_the_truth_for_grading() -> None:
    with open_scenario("mesh-subset-missing", tools=default_tools()) as env:
        assert isinstance(env, Environment) and isinstance(env, ScenarioEnvironment)
        assert env.namespace == "shop" and env.name == "mesh-subset-missing" and env.truth is not None
        assert env.incident is not None and env.incident.summary and env.incident.alerts
        refused = env.execute("kubectl delete pod x")
        assert isinstance(refused, CommandResult) and refused.refused and refused.exit_code == 3
        if shutil.which("kubectl"):
            listed = env.execute("kubectl get pods -A")
            assert listed.exit_code == 0 and "NAMESPACE" in listed.observation
            assert "IST0101" in env.execute("analyze -A").observation  # the tool passed in
    assert env._server is None  # closed: the server is stopped


def test_without_tools_analyze_is_not_available() -> None:
    with open_scenario("mesh-subset-missing") as env:
        assert env.execute("analyze -A").observation == "analyze: not available (no tool registered)\n"


def test_scenario_without_listed_alerts_uses_the_simulators(tmp_path: Path) -> None:
    scenario = load_scenario("mesh-subset-missing")
    bare = scenario.model_copy(deep=True)
    bare.spec.incident.alerts = []
    with open_scenario(bare) as env:
        assert env.incident is not None and env.incident.alerts  # derived by the simulator, not read from the file
        assert all("alertname" in a for a in env.incident.alerts)


def test_an_unreachable_kubeconfig_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ClusterUnavailable, match="does not exist"):
        open_kubeconfig(tmp_path / "missing")


@needs_kubectl
def test_a_kubeconfig_environment_runs_commands_with_its_default_namespace() -> None:
    with open_scenario("crashloop-missing-env") as served:
        kubeconfig = served.runner.config.kubeconfig
        env = open_kubeconfig(kubeconfig, namespace="shop", tools=default_tools())
        with env:
            assert isinstance(env, KubeconfigEnvironment) and not isinstance(env, ScenarioEnvironment)
            assert env.incident is None and env.namespace == "shop"
            assert "checkout" in env.execute("kubectl get deploy").observation

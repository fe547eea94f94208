"""End to end: derived scenarios served by SimServer, read by the real kubectl through the command layer.

This is the path an agent's `analyze` command takes (policy-checked kubectl, injected kubeconfig),
so these tests prove the analyzers need nothing but the Kubernetes API.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from atlas_sre.analyzers import TOOL_NAME, analyze_cli, analyze_tool
from atlas_sre.commands import CommandConfig, CommandRunner
from atlas_sre.grading import DEFAULT_INFRA_NAMESPACES
from atlas_sre.scenarios.catalog import builtin_paths, load
from atlas_sre.scenarios.compile import to_sim_spec
from atlas_sre.scenarios.loader import load_path
from atlas_sre.scenarios.model import Scenario
from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.engine import derive

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="real kubectl not installed"),
]


def _analyze(scenario: Scenario, line: str = f"{TOOL_NAME} -A --json") -> tuple[int, str]:
    with SimServer(derive(to_sim_spec(scenario))) as sim:
        config = CommandConfig(
            kubeconfig=sim.kubeconfig_path,
            namespace="shop",
            max_output_bytes=1 << 26,
            max_output_lines=1 << 20,
        )
        with CommandRunner(config, tools={TOOL_NAME: analyze_tool}) as runner:
            result = runner.run(line)
    return result.exit_code, result.observation


def _findings(scenario: Scenario) -> list[dict[str, Any]]:
    code, text = _analyze(scenario)
    doc = json.loads(text)
    assert doc["errors"] == [], doc["errors"]
    return doc["findings"]


def _serious(findings: list[dict[str, Any]]) -> list[str]:
    return [
        f"{f['level']} [{f['code']}] ({f['origin']}) {f['message']}" for f in findings if f["level"] != "Info"
    ]


def test_mesh_subset_missing_reports_ist0101_on_the_virtual_service(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with SimServer(derive(to_sim_spec(load("mesh-subset-missing")))) as sim:
        code = analyze_cli(sim.kubeconfig_path, None, "shop", False)
    out = capsys.readouterr().out
    assert code == 79
    assert (
        "Error [IST0101] (VirtualService shop/reviews) Referenced host+subset in destinationrule not found: "
        '"reviews+v3"'
    ) in out.splitlines()
    assert "Error: Analyzers found issues when analyzing namespace: shop." in out


def test_service_no_endpoints_reports_the_selector_on_the_service() -> None:
    found = _findings(load("service-no-endpoints"))
    hits = [f for f in found if f["code"] == "ATL220"]
    assert [f["resource"] for f in hits] == ["shop/Service/checkout"]
    assert "selector app=checkout-api matches no pods" in hits[0]["message"]


def test_agent_command_line_with_filters() -> None:
    code, text = _analyze(load("mesh-subset-missing"), f"{TOOL_NAME} | grep -c IST0101")
    assert (code, text.strip()) == (0, "1")


@pytest.fixture(scope="module")
def healthy_builtin() -> Iterator[Scenario]:
    """service-no-endpoints with its fault removed: the Service selects the checkout pods again."""
    scenario = load("service-no-endpoints")
    manifests = copy.deepcopy(scenario.spec.manifests)
    for m in manifests:
        if m["kind"] == "Service" and m["metadata"]["name"] == "checkout":
            m["spec"]["selector"] = {"app": "checkout"}
    spec = scenario.spec.model_copy(update={"manifests": manifests})
    yield scenario.model_copy(update={"spec": spec})


def test_no_false_alarm_on_a_builtin_with_its_fault_removed(healthy_builtin: Scenario) -> None:
    assert _serious(_findings(healthy_builtin)) == []


@pytest.mark.parametrize("app", ["bookinfo", "hotel-reservation", "online-shop"])
def test_no_false_alarm_on_healthy_app_baselines(app: str) -> None:
    scenario = Scenario.model_validate(
        {"metadata": {"name": f"{app}-baseline"}, "spec": {"incident": {"summary": "none"}, "app": app}}
    )
    assert _serious(_findings(scenario)) == []


def test_no_false_alarm_on_library_no_fault_controls() -> None:
    controls = [p for p in builtin_paths() if "healthy-control" in p.stem][:2]
    if not controls:
        pytest.skip("the scenario library has no no-fault controls yet")
    for path in controls:
        scenario = load_path(path)
        assert not scenario.spec.groundTruth.rootCauses
        # Library controls plant real problems in infra namespaces (red herrings): graded like diagnoses.
        found = [f for f in _findings(scenario) if f["namespace"] not in DEFAULT_INFRA_NAMESPACES]
        assert _serious(found) == [], path.stem

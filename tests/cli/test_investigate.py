"""`investigate_cli`: progress on stderr, a Markdown or JSON report on stdout, a JSONL trace, one-line errors."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from atlas_sre.capsules import Capsule, CapsuleStore
from atlas_sre.cli.investigate import investigate_cli

PROGRESS = re.compile(r"^(\[(baseline|guided)\] )?#\d+ \S.* … \d+\.\d\ds, \d+ lines$")


def call(**kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = {"incident": "", **kwargs}
    code = investigate_cli(out=out, err=err, **args)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def markdown_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, str, Path]:
    trace = tmp_path_factory.mktemp("trace") / "run.jsonl"
    code, out, err = call(scenario="mesh-subset-missing", trace=str(trace))
    return code, out, err, trace


def test_markdown_report_and_progress_lines(markdown_run: tuple[int, str, str, Path]) -> None:
    code, out, err, _ = markdown_run
    assert code == 0
    lines = err.splitlines()
    assert any(PROGRESS.match(line) for line in lines), err
    assert lines[0].startswith("[baseline] #1 kubectl get pods -A … ")
    assert any(line.startswith("[guided] #") and line.endswith("diagnosis submitted") for line in lines)
    for heading in ("# Investigation:", "## Teaching", "## Guided run", "## Student alone", "### Commands",
                    "## Tokens", "## Time", "**Grade:** correct"):
        assert heading in out, heading
    assert "| teacher | probe |" in out and "evidence: analyze: Error [IST0101]" in out


def test_trace_is_jsonl(markdown_run: tuple[int, str, str, Path]) -> None:
    records = [json.loads(line) for line in markdown_run[3].read_text().splitlines()]
    assert records[0]["type"] == "teaching"
    runs = [r for r in records if r["type"] == "run"]
    assert [r["label"] for r in runs] == ["baseline", "guided"]
    assert all(r["trajectory_format"] == "atlas-sre-1" for r in runs)
    steps = [r for r in records if r["type"] == "step"]
    assert steps and all({"command", "duration_s", "observation_bytes", "prompt_tokens"} <= set(s) for s in steps)


def test_json_output_without_teaching() -> None:
    code, out, err = call(scenario="crashloop-missing-env", no_teach=True, as_json=True, max_steps=5)
    assert code == 0
    result = json.loads(out)
    assert set(result["commands"]) == {"baseline"} and result["grades"]["baseline"]["correct"]
    assert err.splitlines()[0].startswith("#1 kubectl get pods -A … ")  # no run label when only one runs


@pytest.mark.parametrize("kwargs, fragment, code", [
    ({"incident": "x", "student": "nosuch:model"}, "valid schemes", 2),
    ({"incident": "x", "teacher": "reference:student"}, "cannot play the teacher", 2),
    ({"incident": ""}, "describe the incident", 2),
    ({"incident": "x", "scenario": "no-such-scenario"}, "no such file or built-in scenario", 2),
    ({"incident": "x", "scenario": "mesh-subset-missing", "kubeconfig": "k"}, "not both", 2),
    ({"incident": "x", "kubeconfig": "/nonexistent/kubeconfig"}, "does not exist", 1),
])
def test_errors_are_one_line(kwargs: dict[str, object], fragment: str, code: int) -> None:
    got, out, err = call(**kwargs)
    assert got == code and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and fragment in err


def test_default_kubeconfig_is_used_and_an_unreachable_one_is_one_line(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
                      "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
                      "users: [{name: u, user: {}}]\n")
    monkeypatch.setenv("KUBECONFIG", str(config))
    code, out, err = call(incident="checkout fails")
    assert code == 1 and out == "" and err.count("\n") == 1 and "cannot reach the cluster" in err


def test_a_kubeconfig_cluster_is_investigated_without_grades() -> None:
    from atlas_sre.scenarios.serving import build_state
    from atlas_sre.sim.api.serve import SimServer
    state, namespace = build_state("crashloop-missing-env")
    with SimServer(state, namespace=namespace) as sim:
        code, out, err = call(incident="Checkout pods keep restarting", kubeconfig=str(sim.kubeconfig_path),
                              namespace=namespace, no_teach=True, as_json=True)
    assert code == 0, err
    result = json.loads(out)
    assert "grades" not in result and result["namespace"] == "shop"
    assert result["baseline_diagnosis"]["entities"][0]["name"] == "shop/Deployment/checkout"


def test_capsules_from_a_store_are_applied_through_the_pipeline(tmp_path: Path) -> None:
    path = tmp_path / "capsules.db"
    with CapsuleStore(path) as store:
        store.upsert(Capsule(skill="crashloop_debug", trigger="pods keep restarting CrashLoopBackOff",
                             procedure=["describe the crashing pod", "read the previous container logs"]))
    code, out, err = call(scenario="crashloop-missing-env", as_json=True, max_steps=8, capsules=str(path))
    assert code == 0, err
    assert [c["skill"] for c in json.loads(out)["capsules"]] == ["crashloop_debug"]
    code, out, err = call(scenario="crashloop-missing-env", capsules=str(tmp_path / "missing.db"))
    assert code == 2 and out == "" and err.count("\n") == 1 and "capsule store" in err and "does not exist" in err

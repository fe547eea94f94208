"""`--no-analyzer`: a first-class bench option (config identity, every episode, the CLI) and the same
flag on `investigate`. Real runs: reference agents, served simulator, kubectl."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from atlas_sre.bench.config import BenchConfig
from atlas_sre.bench.plan import plan_bench, scenario_meta
from atlas_sre.bench.runner import run_bench
from atlas_sre.cli.app import app
from atlas_sre.cli.investigate import investigate_cli
from atlas_sre.scenarios.catalog import builtin_paths

kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl missing")


def test_the_flag_is_part_of_the_run_identity_and_reaches_every_episode(tmp_path: Path) -> None:
    on = BenchConfig(scenarios=["mesh-subset-missing"], modes="student,atlas,atlas+capsules,capsules",
                     split="1:1", no_analyzer=True)
    assert on.identity()["no_analyzer"] is True and BenchConfig().identity()["no_analyzer"] is False
    assert on.identity() != on.model_copy(update={"no_analyzer": False}).identity()  # a resume cannot mix them
    metas = [scenario_meta(p) for p in builtin_paths()][:4]
    tasks = plan_bench(on, metas, tmp_path).tasks
    assert tasks and all(t.no_analyzer for t in tasks)
    assert {t.mode for t in tasks} == {"student", "atlas", "atlas+capsules", "capsules"}


@kubectl
def test_a_run_without_the_analyzer_never_runs_it_and_resumes_only_as_such(tmp_path: Path) -> None:
    cfg = BenchConfig(scenarios=["mesh-subset-missing"], modes="student,atlas", no_analyzer=True, workers=1)
    run = run_bench(cfg, tmp_path / "run", progress=False)
    assert len(run.records) == 2
    for r in run.records:
        trace = json.loads((tmp_path / "run" / str(r.trace)).read_text())
        lines = [s["command"] for s in trace["records"] if s["type"] == "step" and s.get("command")]
        assert lines and not any(c.split()[0] == "analyze" for c in lines), lines
        assert "analyze" not in (trace["result"].get("learning") or {}).get("learning_guidance", "").lower()
    taught = next(r for r in run.records if r.mode == "atlas")
    assert taught.correct, taught.diagnosis  # decided from kubectl output alone
    with pytest.raises(ValueError, match="no_analyzer"):
        run_bench(cfg.model_copy(update={"no_analyzer": False}), tmp_path / "run", progress=False)


def test_bench_cli_has_the_flags() -> None:
    out = CliRunner().invoke(app, ["bench", "--help"], env={"COLUMNS": "200"}).output
    assert "--no-analyzer" in out and "--train-iterations" in out


@kubectl
def test_investigate_no_analyzer_uses_kubectl_only() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = investigate_cli("", scenario="mesh-subset-missing", no_capsules=True, as_json=True, no_analyzer=True,
                           out=out, err=err)
    assert code == 0, err.getvalue()
    result: dict[str, Any] = json.loads(out.getvalue())
    commands = result["commands"]["baseline"] + result["commands"]["guided"]
    assert commands and all(c.startswith("kubectl ") for c in commands), commands
    assert "analyz" not in result["learning"]["learning_guidance"].lower()
    assert "kubectl get destinationrules" in " ".join(result["commands"]["guided"])
    assert result["grades"]["guided"]["correct"]

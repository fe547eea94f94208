"""One small real run: 2 built-in scenarios × 3 modes × 1 iteration, reference agents, real simulator + kubectl."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from atlas_sre.bench.config import BenchConfig
from atlas_sre.bench.runner import run_bench

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl missing")]

SCENARIOS = ["mesh-subset-missing", "image-not-found"]


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Any:
    cfg = BenchConfig(scenarios=SCENARIOS, modes="student,atlas,atlas+capsules", iterations=1, repeats=1, workers=2)
    return run_bench(cfg, tmp_path_factory.mktemp("real"), progress=False)


def test_every_episode_ran_through_the_protocol(real: Any) -> None:
    assert len(real.records) == 2 * 3
    for r in real.records:
        assert r.outcome != "error", (r.key, r.message)
        assert r.grade is not None and r.commands >= 1 and r.output_lines >= 1
        assert r.tokens["student.execute"].total > 0 and r.ttr_s > 0
        assert (r.mode == "student") == (r.baseline is None)  # taught episodes carry their own control


def test_teacher_budgets_hold_per_episode(real: Any) -> None:
    taught = [r for r in real.records if r.mode != "student"]
    assert taught
    for r in taught:
        assert 0 < r.tokens["teacher.probe"].completion <= 50
        assert 0 < r.tokens["teacher.correct"].completion <= 200
        assert r.teaching and r.teaching["strategy"] in ("Light", "Medium", "Heavy")


def test_traces_and_reports_are_written(real: Any) -> None:
    for r in real.records:
        trace = json.loads((real.out / r.trace).read_text())
        assert trace["task"]["key"] == r.key and trace["records"]
        assert trace["result"]["grades"]
    summary = json.loads((real.out / "summary.json").read_text())
    assert list(summary["modes"]) == ["student", "atlas", "atlas+capsules"]
    assert summary["modes"]["atlas"]["compared"] == 2  # paired with the student runs
    if any(r.correct for r in real.records if r.mode == "atlas+capsules"):
        # the real consolidation read the runner's record + trace and learnt from a correct taught run
        assert summary["capsule_stores"]["acap"]["capsules"] >= 1
    assert Path(real.out / "report.html").stat().st_size > 10_000


def strip_wall(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: strip_wall(v) for k, v in data.items() if k != "wall_s"}
    return [strip_wall(v) for v in data] if isinstance(data, list) else data


def test_same_seed_same_summary_with_reference_agents(real: Any, tmp_path: Path) -> None:
    cfg = BenchConfig(scenarios=SCENARIOS, modes="student,atlas,atlas+capsules", iterations=1, repeats=1, workers=1)
    again = run_bench(cfg, tmp_path / "again", progress=False)
    assert strip_wall(again.summary) == strip_wall(real.summary)
    resumed = run_bench(BenchConfig(**{**cfg.model_dump(), "workers": 2}), real.out, progress=False)
    assert resumed.timings["ran"] == 0  # everything was recorded: nothing runs twice

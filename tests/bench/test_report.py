"""Report files: produced, self-contained HTML, rebuilt from results.jsonl, two runs compared."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from atlas_sre.bench.config import BenchConfig
from atlas_sre.bench.runner import run_bench
from atlas_sre.bench.synthetic import SyntheticEpisodeRunner
from atlas_sre.bench.tables import compare_markdown, pm, render_markdown
from atlas_sre.cli.bench import bench_cli, report_cli
from atlas_sre.scenarios.catalog import BUILTIN_DIRS


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    cfg = BenchConfig(scenarios=[str(BUILTIN_DIRS[0])], modes="student,atlas,atlas+capsules,capsules",
                      iterations=2, repeats=2, split="3:3", seed=5)
    return run_bench(cfg, tmp_path_factory.mktemp("run"), episode_runner=SyntheticEpisodeRunner(), progress=False)


def test_report_files_are_written(run: Any) -> None:
    for name in ("summary.json", "results.jsonl", "report.md", "report.html", "config.json",
                 "plots/learning_curve.png", "plots/per_fault_accuracy.png", "plots/tokens_per_phase.png",
                 "plots/ttr_per_mode.png"):
        assert (run.out / name).stat().st_size > 0, name
    assert (run.out / "plots/learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((run.out / "summary.json").read_text())
    assert list(summary["modes"]) == ["student", "atlas", "atlas+capsules", "capsules"]
    assert summary["modes"]["student"]["n"] == 3 * 2 * 2  # test half × iterations × repeats
    assert summary["episodes"] == {"eval": 48, "train": 3, "errors": 0}


def test_markdown_has_the_seed_table_and_every_section(run: Any) -> None:
    md = (run.out / "report.md").read_text()
    for title in ("## Results per mode", "## Learning curve", "## Accuracy per fault", "## Teaching reward",
                  "## Tokens per role and phase", "## Capsule transfer on the test split", "## Time to resolution",
                  "## Token trade", "## Consolidation per stage"):
        assert title in md
    student = run.summary["modes"]["student"]
    row = next(line for line in md.splitlines() if line.startswith("| student |"))
    assert pm(student["accuracy"], pct=True) in row


def test_html_is_self_contained(run: Any) -> None:
    html = (run.out / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 4
    refs = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']*)', html, flags=re.IGNORECASE)
    assert refs and all(r.startswith("data:") for r in refs), refs
    assert "<script" not in html.lower() and "@import" not in html and "url(" not in html


def test_report_cli_rebuilds_identical_reports(run: Any, capsys: pytest.CaptureFixture[str]) -> None:
    md_before = (run.out / "report.md").read_text()
    summary_before = json.loads((run.out / "summary.json").read_text())
    for name in ("summary.json", "report.md", "report.html"):
        (run.out / name).unlink()
    assert report_cli([str(run.out)]) == 0
    assert (run.out / "report.md").read_text() == md_before
    assert json.loads((run.out / "summary.json").read_text()) == summary_before
    assert "## Results per mode" in capsys.readouterr().out


def test_compare_two_runs_prints_deltas(run: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = BenchConfig(scenarios=[str(BUILTIN_DIRS[0])], modes="student,atlas", iterations=1, repeats=1, seed=5)
    other = run_bench(cfg, tmp_path / "b", episode_runner=SyntheticEpisodeRunner(p_taught=0.0), progress=False)
    assert report_cli([str(run.out), str(other.out)]) == 0
    out = capsys.readouterr().out
    atlas = next(line for line in out.splitlines() if line.startswith("| atlas |"))
    a, b = (x.summary["modes"]["atlas"]["accuracy"]["mean"] for x in (run, other))
    delta = 100 * (b - a)
    assert f"{delta:+.0f} pp" in atlas
    assert "only in one run" in compare_markdown(run.summary, other.summary, "a", "b")


def test_report_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report_cli([str(tmp_path)]) == 2
    assert "not a benchmark run" in capsys.readouterr().err
    assert report_cli([]) == 2


def test_bench_cli_usage_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_cli(scenarios=[str(BUILTIN_DIRS[0])], modes="student,nope", out=str(tmp_path / "x")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "valid modes" in err and err.count("\n") == 1
    assert bench_cli(scenarios=["no-such-scenario-anywhere"], out=str(tmp_path / "y")) == 2
    assert bench_cli(split="2", out=str(tmp_path / "z")) == 2


def test_empty_summary_renders(tmp_path: Path) -> None:
    from atlas_sre.bench.report import build_summary

    summary = build_summary([], BenchConfig())
    assert "# atlas-sre benchmark" in render_markdown(summary)


def test_time_to_correct_charges_the_escalation_and_states_the_speedups(run: Any) -> None:
    summary = run.summary
    ttr = summary["time_to_resolution"]
    assert ttr["escalation_s"] == 2700.0 and ttr["seed"]["speedup"] == 15.0
    for mode, stats in summary["modes"].items():
        wrong = 1 - stats["accuracy"]["mean"]  # every episode pays its own time, the wrong ones 2700 s more
        assert stats["ttr_correct_s"]["mean"] == pytest.approx(stats["ttr_s"]["mean"] + 2700 * wrong, abs=1e-3)
        assert ttr["per_mode"][mode]["ttr_correct_s"] == stats["ttr_correct_s"]["mean"]
    student = ttr["per_mode"]["student"]["ttr_correct_s"]
    assert ttr["speedup_vs_student"]["atlas"]["correct"] == pytest.approx(
        student / ttr["per_mode"]["atlas"]["ttr_correct_s"], abs=1e-3)
    md = (run.out / "report.md").read_text()
    assert "escalation of 2,700 s (45 min" in md and "45 min → 3 min, 15×" in md
    assert "measured here (time to correct): atlas " in md


def test_token_trade_states_ratios_against_the_targets(run: Any) -> None:
    trade = run.summary["token_trade"]
    assert trade["targets"] == {"total": 0.7, "teacher": 0.5}
    modes = run.summary["modes"]
    acap = trade["vs_atlas"]["atlas+capsules"]
    assert acap["total"] == pytest.approx(modes["atlas+capsules"]["tokens"]["mean"] / modes["atlas"]["tokens"]["mean"],
                                          abs=1e-6)
    assert acap["teacher_met"] == (acap["teacher"] <= 0.5)
    assert trade["vs_atlas"]["capsules"]["teacher"] == 0 and trade["vs_atlas"]["capsules"]["teacher_met"] is True
    for mode, row in trade["per_mode"].items():
        assert row["total"] == pytest.approx(row["student"] + row["teacher"], abs=1e-6), mode
    md = (run.out / "report.md").read_text()
    assert "total ≤ 0.7× and teacher ≤ 0.5× of `atlas`" in md


def test_consolidation_is_reported_per_stage(run: Any) -> None:
    rows = run.summary["consolidation"]
    # the store groups in name order, each group's stages in run order (acap's iteration 0 runs in "frozen")
    assert [(r["group"], r["stage"]) for r in rows] == [("acap", "frozen"), ("acap", "acap-i1"), ("train", "train-i0")]
    assert all({"learnt", "merged", "kept", "learnt_kept", "deprecated", "pruned", "reasons"} <= set(r) for r in rows)
    assert sum(r["learnt"] for r in rows) > 0
    assert all(r["kept"] >= r["learnt_kept"] for r in rows)

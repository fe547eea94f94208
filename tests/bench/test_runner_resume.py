"""Resumable runs: a crash (runner or worker) loses only running episodes; reruns skip done ones."""

from __future__ import annotations

import json
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from atlas_sre.bench.config import BenchConfig
from atlas_sre.bench.results import ResultLog
from atlas_sre.bench.runner import run_bench
from atlas_sre.bench.synthetic import SimulatedCrash, SyntheticEpisodeRunner
from atlas_sre.scenarios.catalog import BUILTIN_DIRS

CFG: dict[str, Any] = {"scenarios": [str(BUILTIN_DIRS[0])], "modes": "student,atlas,atlas+capsules",
                       "iterations": 3, "repeats": 1, "seed": 3}
# An atlas+capsules episode of the second iteration: stores must be replayed correctly after it.
CRASH_KEY = "eval/atlas+capsules/image-not-found/i1/r0"


def strip_wall(data: Any) -> Any:
    """A summary without wall-clock numbers (the only thing allowed to differ between runs)."""
    if isinstance(data, dict):
        return {k: strip_wall(v) for k, v in data.items() if k != "wall_s"}
    return [strip_wall(v) for v in data] if isinstance(data, list) else data


def keys_in(path: Path) -> list[str]:
    return [json.loads(line)["key"] for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return run_bench(BenchConfig(**CFG), tmp_path_factory.mktemp("clean"), episode_runner=SyntheticEpisodeRunner(),
                     progress=False)


def test_runner_crash_then_resume_completes_without_duplicates(tmp_path: Path, clean: Any) -> None:
    crashing = SyntheticEpisodeRunner(crash_key=CRASH_KEY, crash_kind="raise")
    with pytest.raises(SimulatedCrash):
        run_bench(BenchConfig(**CFG), tmp_path, episode_runner=crashing, progress=False)
    before = keys_in(tmp_path / "results.jsonl")
    assert 0 < len(before) < len(clean.records)
    assert CRASH_KEY not in before
    resumed = run_bench(BenchConfig(**CFG), tmp_path, episode_runner=crashing, progress=False)
    after = keys_in(tmp_path / "results.jsonl")
    assert after[: len(before)] == before  # nothing done before the crash was run again
    assert len(after) == len(set(after)) == len(clean.records)
    assert strip_wall(resumed.summary) == strip_wall(clean.summary)


def test_killed_worker_then_resume(tmp_path: Path, clean: Any) -> None:
    dying = SyntheticEpisodeRunner(crash_key=CRASH_KEY, crash_kind="exit")
    with pytest.raises(BrokenProcessPool):
        run_bench(BenchConfig(**CFG, workers=2), tmp_path, episode_runner=dying, progress=False)
    before = keys_in(tmp_path / "results.jsonl")
    assert CRASH_KEY not in before and len(before) < len(clean.records)
    resumed = run_bench(BenchConfig(**CFG, workers=2), tmp_path, episode_runner=dying, progress=False)
    after = keys_in(tmp_path / "results.jsonl")
    assert set(before) <= set(after) and len(after) == len(set(after)) == len(clean.records)
    assert strip_wall(resumed.summary) == strip_wall(clean.summary)


def test_torn_last_line_is_skipped_and_the_episode_rerun(tmp_path: Path, clean: Any) -> None:
    run_bench(BenchConfig(**CFG), tmp_path, episode_runner=SyntheticEpisodeRunner(), progress=False)
    path = tmp_path / "results.jsonl"
    lines = path.read_text().splitlines()
    lost = json.loads(lines[-1])["key"]
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:40])  # killed mid-write
    assert lost not in ResultLog(path).load()
    resumed = run_bench(BenchConfig(**CFG), tmp_path, episode_runner=SyntheticEpisodeRunner(), progress=False)
    assert lost in ResultLog(path).load()
    assert len(ResultLog(path).load()) == len(clean.records)
    assert strip_wall(resumed.summary) == strip_wall(clean.summary)


def test_episode_error_is_a_result_and_retry_errors_reruns_it(tmp_path: Path) -> None:
    failing = SyntheticEpisodeRunner(crash_key=CRASH_KEY, crash_kind="error")
    run = run_bench(BenchConfig(**CFG), tmp_path, episode_runner=failing, progress=False)
    errored = [r for r in run.records if r.outcome == "error"]
    assert [r.key for r in errored] == [CRASH_KEY]
    assert "synthetic episode failure" in errored[0].message
    assert run.summary["episodes"]["errors"] == 1
    again = run_bench(BenchConfig(**CFG), tmp_path, episode_runner=failing, progress=False)
    assert again.summary["episodes"]["errors"] == 1  # plain resume keeps the recorded error
    fixed = run_bench(BenchConfig(**CFG), tmp_path, episode_runner=failing, progress=False, retry_errors=True)
    assert fixed.summary["episodes"]["errors"] == 0
    assert len(ResultLog(tmp_path / "results.jsonl").load()) == len(fixed.records)


def test_resuming_with_another_configuration_is_refused(tmp_path: Path) -> None:
    run_bench(BenchConfig(**{**CFG, "iterations": 1}), tmp_path, episode_runner=SyntheticEpisodeRunner(),
              progress=False)
    with pytest.raises(ValueError, match="different configuration.*iterations"):
        run_bench(BenchConfig(**CFG), tmp_path, episode_runner=SyntheticEpisodeRunner(), progress=False)
    # workers only change speed: allowed
    run_bench(BenchConfig(**{**CFG, "iterations": 1, "workers": 2}), tmp_path,
              episode_runner=SyntheticEpisodeRunner(), progress=False)


def test_resume_uses_the_pinned_scenarios_when_the_library_changes(tmp_path: Path, clean: Any) -> None:
    import shutil

    library = tmp_path / "library"
    shutil.copytree(BUILTIN_DIRS[0], library)
    cfg = BenchConfig(**{**CFG, "scenarios": [str(library)]})
    crashing = SyntheticEpisodeRunner(crash_key=CRASH_KEY, crash_kind="raise")
    with pytest.raises(SimulatedCrash):
        run_bench(cfg, tmp_path / "run", episode_runner=crashing, progress=False)
    (library / "image-not-found.yaml").unlink()  # the library is regenerated meanwhile
    (library / "mesh-subset-missing.yaml").write_text("not: a scenario\n")
    resumed = run_bench(cfg, tmp_path / "run", episode_runner=crashing, progress=False)
    assert {r.scenario for r in resumed.records} == {r.scenario for r in clean.records}
    assert strip_wall(resumed.summary)["modes"] == strip_wall(clean.summary)["modes"]
    pinned = json.loads((tmp_path / "run" / "scenarios" / "pinned.json").read_text())
    assert all("/scenarios/pinned/" in m["path"] for m in pinned)

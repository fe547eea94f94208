"""`--executor ray`: the same 6 real episodes on the local executor and on a local Ray give the same numbers.

The config crosses a barrier: `student,capsules` over 2 built-in scenarios is a free stage (2 student
episodes) beside a chain train stage (2 taught `atlas+capsules` episodes) → consolidation → frozen
stage (2 `capsules` episodes reading what the train stage taught). Reference agents, the real
simulator and kubectl, a real local Ray with 2 CPU slots.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from atlas_sre.bench.config import BenchConfig
from atlas_sre.bench.runner import run_bench
from atlas_sre.bench.synthetic import SimulatedCrash, SyntheticEpisodeRunner
from atlas_sre.cli.bench import bench_cli
from atlas_sre.scenarios.catalog import BUILTIN_DIRS

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'atlas-sre[ray]')")

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl missing"),
              pytest.mark.timeout(300)]

CFG: dict[str, Any] = {"scenarios": ["mesh-subset-missing", "image-not-found"], "modes": "student,capsules",
                       "workers": 2}
AFTER_BARRIER = "eval/capsules/"  # the frozen stage: runs only once the train stage is consolidated


def strip_wall(data: Any) -> Any:
    """Without `wall_s` — per episode and its mean/stderr per group: the only wall-clock numbers in a summary."""
    if isinstance(data, dict):
        return {k: strip_wall(v) for k, v in data.items() if k != "wall_s"}
    return [strip_wall(v) for v in data] if isinstance(data, list) else data


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- usage errors (before any Ray runs in this process: a joined Ray would be reused) ----------------


def test_ray_address_without_ray_executor_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_cli(["image-not-found"], "student", out=str(tmp_path), ray_address="auto") == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: --ray-address needs --executor ray"
    assert bench_cli(["image-not-found"], "student", out=str(tmp_path), executor="dask") == 2
    assert "unknown executor 'dask': valid executors are local, ray" in capsys.readouterr().err
    assert not (tmp_path / "config.json").exists()


def test_unreachable_address_is_one_line_in_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert not ray.is_initialized()
    address = f"ray://127.0.0.1:{free_port()}"
    assert bench_cli(["image-not-found"], "student", out=str(tmp_path), executor="ray", ray_address=address) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: --ray-address {address}: cannot reach 127.0.0.1:") and "\n" not in err
    assert not ray.is_initialized() and not (tmp_path / "config.json").exists()  # refused before anything ran


def test_missing_ray_says_how_to_install_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError, as when not installed
    assert bench_cli(["image-not-found"], "student", out=str(tmp_path), executor="ray") == 2
    assert capsys.readouterr().err.strip() == "error: ray is not installed: install it: pip install 'atlas-sre[ray]'"


# --- the same numbers -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    local = run_bench(BenchConfig(**CFG), tmp_path_factory.mktemp("local"), progress=False)
    assert not ray.is_initialized()
    on_ray = run_bench(BenchConfig(**CFG, executor="ray"), tmp_path_factory.mktemp("ray"), progress=False)
    return {"local": local, "ray": on_ray, "ray_left_running": ray.is_initialized()}


def test_ray_gives_the_local_executors_summary(runs: dict[str, Any]) -> None:
    local, on_ray = runs["local"], runs["ray"]
    assert not runs["ray_left_running"]  # the local Ray the pool started is stopped with it
    assert on_ray.timings["ran"] == 6
    local_summary = json.loads((local.out / "summary.json").read_text())
    ray_summary = json.loads((on_ray.out / "summary.json").read_text())
    assert strip_wall(ray_summary) == strip_wall(local_summary)
    assert ray_summary["episodes"] == {"eval": 4, "train": 2, "errors": 0}
    # the frozen stage read the store the train stage taught: the barrier held and the snapshot travelled
    used = {r.key: r.capsules_used for r in on_ray.records if r.key.startswith(AFTER_BARRIER)}
    assert len(used) == 2 and all(used.values())
    assert used == {r.key: r.capsules_used for r in local.records if r.key.startswith(AFTER_BARRIER)}


def test_results_stream_into_the_run_folder_with_their_traces(runs: dict[str, Any]) -> None:
    local, on_ray = runs["local"], runs["ray"]
    ray_lines, local_lines = lines(on_ray.out / "results.jsonl"), lines(local.out / "results.jsonl")
    assert sorted(r["key"] for r in ray_lines) == sorted(r["key"] for r in local_lines)
    assert len(ray_lines) == 6
    by_key = {r["key"]: r for r in local_lines}
    for record in ray_lines:
        assert record.keys() == by_key[record["key"]].keys()
        assert strip_wall(record) == strip_wall(by_key[record["key"]])
        trace = json.loads((on_ray.out / record["trace"]).read_text())  # written by the driver, not the worker
        assert trace["task"]["key"] == record["key"] and trace["records"] and trace["result"]["grades"]
        # the worker's temporary paths are not what the trace says: the run folder's are
        assert trace["task"]["run_dir"] == str(on_ray.out)
        assert trace["task"]["scenario"]["path"].startswith(str(on_ray.out / "scenarios" / "pinned"))
    assert not any(r["outcome"] == "error" for r in ray_lines)


# --- resuming and failures on one shared local Ray -------------------------------------------------


@pytest.fixture(scope="module")
def shared_ray() -> Any:
    """A Ray the tests start (2 slots): pools use it and leave it running, as in a notebook."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_a_local_run_resumes_on_ray_and_skips_finished_episodes(runs: dict[str, Any], shared_ray: Any,
                                                                 tmp_path: Path) -> None:
    local = runs["local"]
    out = tmp_path / "resumed"
    shutil.copytree(local.out, out)
    kept = [line for line in (out / "results.jsonl").read_text().splitlines() if AFTER_BARRIER not in line]
    (out / "results.jsonl").write_text("\n".join(kept) + "\n")
    for trace in (out / "traces").glob("eval_capsules_*.json"):
        trace.unlink()
    resumed = run_bench(BenchConfig(**CFG, executor="ray"), out, progress=False)
    assert resumed.timings["ran"] == 2  # only the episodes after the barrier ran again
    assert [r["key"] for r in lines(out / "results.jsonl")][:4] == [json.loads(line)["key"] for line in kept]
    assert strip_wall(resumed.summary) == strip_wall(local.summary)
    assert len(list((out / "traces").glob("eval_capsules_*.json"))) == 2
    assert shared_ray.is_initialized()  # not the pool's to stop


SYNTHETIC: dict[str, Any] = {"scenarios": [str(BUILTIN_DIRS[0])], "modes": "student,atlas,atlas+capsules",
                             "iterations": 2, "workers": 2, "executor": "ray"}
CRASH_KEY = "eval/atlas+capsules/image-not-found/i1/r0"


def test_a_crashing_task_ends_the_run_after_the_finished_ones_are_written(shared_ray: Any, tmp_path: Path) -> None:
    crashing = SyntheticEpisodeRunner(crash_key=CRASH_KEY, crash_kind="raise")
    with pytest.raises(SimulatedCrash):  # the task's BaseException, as `ProcessPool` re-raises it
        run_bench(BenchConfig(**SYNTHETIC), tmp_path, episode_runner=crashing, progress=False)
    before = [r["key"] for r in lines(tmp_path / "results.jsonl")]
    assert before and CRASH_KEY not in before
    resumed = run_bench(BenchConfig(**SYNTHETIC), tmp_path, episode_runner=SyntheticEpisodeRunner(), progress=False)
    after = [r["key"] for r in lines(tmp_path / "results.jsonl")]
    assert after[: len(before)] == before and len(after) == len(set(after)) == len(resumed.records)
    assert CRASH_KEY in after


def test_a_dead_ray_worker_ends_the_run_and_is_not_retried(shared_ray: Any, tmp_path: Path) -> None:
    dying = SyntheticEpisodeRunner(crash_key=CRASH_KEY, crash_kind="exit")
    with pytest.raises(shared_ray.exceptions.WorkerCrashedError):
        run_bench(BenchConfig(**SYNTHETIC), tmp_path, episode_runner=dying, progress=False)
    before = [r["key"] for r in lines(tmp_path / "results.jsonl")]
    assert before and CRASH_KEY not in before

"""Benchmark throughput: reference investigations per minute (target ≥ 100/min on 2 cores).

An *investigation* is one student investigation loop against a served scenario: a `student`
episode runs one, a taught episode runs two (the untaught baseline and the taught run). The
bench runs `student` and `atlas` over the first N built-in scenarios with reference agents and
`--workers` processes, and also times the runner alone with the synthetic episode function (its
own overhead: planning, fsync'd results, consolidation, reports). One `name=value` line each.

Wall-clock throughput depends on whatever else runs on the machine, so the bench also reports the
CPU seconds one investigation costs (this process, its workers and every kubectl they started) and
the throughput the cores would give at that cost if nothing else ran on them.

With `--executor both` (the default) the same run is also made with Ray tasks on a local Ray with
`--workers` CPU slots (`atlas-sre bench --executor ray`); its lines are prefixed `ray_`. The local Ray
is started before the clock runs (`ray_start_s` says how long that took), so both figures are the
episodes' throughput. Ray's own processes are not this process's reaped children, so no CPU figure is
given for it.

Run: `.venv/bin/python bench/throughput.py [--scenarios 20] [--workers 2] [--modes student,atlas]
[--executor local|ray|both]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from atlas_sre.bench.config import BenchConfig, auto_workers
from atlas_sre.bench.runner import run_bench
from atlas_sre.bench.synthetic import SyntheticEpisodeRunner
from atlas_sre.scenarios.catalog import builtin_names


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and of all its finished descendants."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _real(names: list[str], modes: str, workers: int, out: Path, executor: str = "local") -> Any:
    """One real run of the reference agents; the run and the CPU seconds it cost (local executor)."""
    cfg = BenchConfig(scenarios=names, modes=modes, workers=workers, executor=executor)
    cpu_before = _cpu_s()
    run = run_bench(cfg, out, progress=False)
    return run, _cpu_s() - cpu_before  # this process, its workers and every kubectl they ran


def _rates(prefix: str, run: Any) -> None:
    """The throughput lines of one run: wall time of the episodes, investigations and episodes per minute."""
    wall = run.timings["episodes_s"]  # the episodes themselves: submit, serve, investigate, record
    investigations = sum(1 + (r.baseline is not None) for r in run.records)
    print(f"{prefix}episodes={len(run.records)}")
    print(f"{prefix}investigations={investigations}")
    print(f"{prefix}errors={sum(r.outcome == 'error' for r in run.records)}")
    print(f"{prefix}episodes_wall_s={wall:.2f}")
    print(f"{prefix}investigations_per_min={60 * investigations / wall:.1f}")
    print(f"{prefix}episodes_per_min={60 * len(run.records) / wall:.1f}")
    print(f"{prefix}mean_episode_s={sum(r.wall_s for r in run.records) / max(len(run.records), 1):.3f}")


def _local(names: list[str], modes: str, workers: int, tmp: Path) -> None:
    run, cpu = _real(names, modes, workers, tmp / "real")
    investigations = sum(1 + (r.baseline is not None) for r in run.records)
    synthetic_cfg = BenchConfig(scenarios=["builtin"], modes="student,atlas,atlas+capsules", iterations=3)
    synthetic = run_bench(synthetic_cfg, tmp / "synthetic", episode_runner=SyntheticEpisodeRunner(), progress=False)
    _rates("", run)
    print(f"reports_s={run.timings['reports_s']:.2f}")
    print(f"cpu_s_per_investigation={cpu / max(investigations, 1):.3f}")
    # what the cores would give if nothing else ran on them (the machine is often shared)
    cores = os.cpu_count() or 1
    print(f"cpu_bound_investigations_per_min={60 * cores * investigations / max(cpu, 1e-9):.1f}")
    print(f"runner_overhead_episodes={len(synthetic.records)}")
    print(f"runner_overhead_episodes_per_min={60 * len(synthetic.records) / synthetic.timings['episodes_s']:.0f}")


def _ray(names: list[str], modes: str, workers: int, tmp: Path) -> None:
    from atlas_sre.bench.executor_ray import connect, import_ray

    ray = import_ray()
    started = time.perf_counter()
    ours = connect(ray, workers, None)  # a local Ray with `workers` slots; the pool joins it
    start_s = time.perf_counter() - started
    try:
        run, _ = _real(names, modes, workers, tmp / "ray", executor="ray")
    finally:
        if ours:
            ray.shutdown()
    print(f"ray_start_s={start_s:.2f}")
    _rates("ray_", run)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=20, help="how many built-in scenarios (by name order)")
    parser.add_argument("--workers", type=int, default=0, help="0 = auto (3 × cores); Ray: its CPU slots")
    parser.add_argument("--modes", default="student,atlas")
    parser.add_argument("--executor", choices=("local", "ray", "both"), default="both",
                        help="local worker processes, Ray tasks on a local Ray, or both (default)")
    args = parser.parse_args()
    names = builtin_names()[: args.scenarios]
    workers = args.workers or auto_workers()
    print(f"cores={os.cpu_count()}")
    print(f"workers={workers}")
    print(f"scenarios={len(names)}")
    with tempfile.TemporaryDirectory(prefix="atlas-sre-throughput-") as tmp:
        if args.executor in ("local", "both"):
            _local(names, args.modes, workers, Path(tmp))
        if args.executor in ("ray", "both"):
            _ray(names, args.modes, workers, Path(tmp))
    print(f"load_average_1m={os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

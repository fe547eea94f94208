"""Benchmark throughput: reference investigations per minute (target ≥ 100/min on 2 cores).

An *investigation* is one student investigation loop against a served scenario: a `student`
episode runs one, a taught episode runs two (the untaught baseline and the taught run). The
bench runs `student` and `atlas` over the first N built-in scenarios with reference agents and
`--workers` processes, and also times the runner alone with the synthetic episode function (its
own overhead: planning, fsync'd results, consolidation, reports). One `name=value` line each.

Wall-clock throughput depends on whatever else runs on the machine, so the bench also reports the
CPU seconds one investigation costs (this process, its workers and every kubectl they started) and
the throughput the cores would give at that cost if nothing else ran on them.

Run: `.venv/bin/python bench/throughput.py [--scenarios 20] [--workers 2] [--modes student,atlas]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
from pathlib import Path

from atlas_sre.bench.config import BenchConfig, auto_workers
from atlas_sre.bench.runner import run_bench
from atlas_sre.bench.synthetic import SyntheticEpisodeRunner
from atlas_sre.scenarios.catalog import builtin_names


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and of all its finished descendants."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=20, help="how many built-in scenarios (by name order)")
    parser.add_argument("--workers", type=int, default=0, help="0 = auto (3 × cores)")
    parser.add_argument("--modes", default="student,atlas")
    args = parser.parse_args()
    names = builtin_names()[: args.scenarios]
    with tempfile.TemporaryDirectory(prefix="atlas-sre-throughput-") as tmp:
        cfg = BenchConfig(scenarios=names, modes=args.modes, workers=args.workers)
        cpu_before = _cpu_s()
        run = run_bench(cfg, Path(tmp) / "real", progress=False)
        cpu = _cpu_s() - cpu_before  # this process, its workers and every kubectl they ran
        wall = run.timings["episodes_s"]  # the episodes themselves: spawn, serve, investigate, record
        investigations = sum(1 + (r.baseline is not None) for r in run.records)
        errors = sum(r.outcome == "error" for r in run.records)
        episode_wall = sum(r.wall_s for r in run.records)
        synthetic_cfg = BenchConfig(scenarios=["builtin"], modes="student,atlas,atlas+capsules", iterations=3)
        synthetic = run_bench(synthetic_cfg, Path(tmp) / "synthetic", episode_runner=SyntheticEpisodeRunner(),
                              progress=False)
        synthetic_wall = synthetic.timings["episodes_s"]
    print(f"cores={os.cpu_count()}")
    print(f"workers={args.workers or auto_workers()}")
    print(f"scenarios={len(names)}")
    print(f"episodes={len(run.records)}")
    print(f"investigations={investigations}")
    print(f"errors={errors}")
    print(f"load_average_1m={os.getloadavg()[0]:.2f}")
    print(f"episodes_wall_s={wall:.2f}")
    print(f"reports_s={run.timings['reports_s']:.2f}")
    print(f"investigations_per_min={60 * investigations / wall:.1f}")
    print(f"episodes_per_min={60 * len(run.records) / wall:.1f}")
    print(f"cpu_s_per_investigation={cpu / max(investigations, 1):.3f}")
    # what the cores would give if nothing else ran on them (the machine is often shared)
    cores = os.cpu_count() or 1
    print(f"cpu_bound_investigations_per_min={60 * cores * investigations / max(cpu, 1e-9):.1f}")
    print(f"mean_episode_s={episode_wall / max(len(run.records), 1):.3f}")
    print(f"runner_overhead_episodes={len(synthetic.records)}")
    print(f"runner_overhead_episodes_per_min={60 * len(synthetic.records) / synthetic_wall:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

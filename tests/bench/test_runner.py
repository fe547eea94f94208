"""The runner with the synthetic episode function: determinism, ordering, split, capsule flow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from atlas_sre.bench.config import BenchConfig, ScenarioMeta, parse_modes
from atlas_sre.bench.plan import plan_bench, split_counts, split_scenarios
from atlas_sre.bench.runner import run_bench
from atlas_sre.bench.synthetic import SyntheticEpisodeRunner
from atlas_sre.scenarios.catalog import BUILTIN_DIRS, builtin_paths

HAND_WRITTEN = str(BUILTIN_DIRS[0])  # the six hand-written built-ins: small and always present


def strip_wall(data: Any) -> Any:
    """A summary without wall-clock numbers (the only thing allowed to differ between runs)."""
    if isinstance(data, dict):
        return {k: strip_wall(v) for k, v in data.items() if k != "wall_s"}
    if isinstance(data, list):
        return [strip_wall(v) for v in data]
    return data


def config(**kw: Any) -> BenchConfig:
    base: dict[str, Any] = {"scenarios": [HAND_WRITTEN], "modes": "student,atlas,atlas+capsules",
                            "iterations": 2, "repeats": 2, "seed": 7}
    return BenchConfig(**{**base, **kw})


def test_same_seed_gives_identical_summary_serial_and_parallel(tmp_path: Path) -> None:
    runner = SyntheticEpisodeRunner()
    a = run_bench(config(), tmp_path / "a", episode_runner=runner, progress=False)
    b = run_bench(config(workers=2), tmp_path / "b", episode_runner=runner, progress=False)
    assert len(a.records) == len(list(BUILTIN_DIRS[0].glob("*.yaml"))) * 3 * 2 * 2
    assert strip_wall(a.summary) == strip_wall(b.summary)
    c = run_bench(config(seed=8), tmp_path / "c", episode_runner=runner, progress=False)
    assert [r.seed for r in c.records] != [r.seed for r in a.records]


def test_capsules_accumulate_across_iterations_only_with_memory(tmp_path: Path) -> None:
    run = run_bench(config(modes="atlas,atlas+capsules", iterations=3, repeats=1), tmp_path / "run",
                    episode_runner=SyntheticEpisodeRunner(), progress=False)
    by_key = {r.key: r for r in run.records}
    assert all(not r.capsules_used for r in run.records if r.mode == "atlas")
    acap = [r for r in run.records if r.mode == "atlas+capsules"]
    assert all(not r.capsules_used for r in acap if r.iteration == 0)  # the store starts empty
    for r in acap:
        if r.iteration == 0:
            continue
        previous = by_key[f"eval/atlas+capsules/{r.scenario}/i{r.iteration - 1}/r0"]
        learnt_before = any(p.correct for p in acap if p.iteration < r.iteration and p.faults[0] == r.faults[0])
        assert bool(r.capsules_used) == learnt_before, (r.key, previous.correct)
    assert any(r.capsules_used for r in acap)
    assert run.summary["capsule_stores"]["acap"]["capsules"] >= 1
    curve = run.summary["by_iteration"]["atlas+capsules"]
    assert curve["1"]["tokens"]["mean"] < curve["0"]["tokens"]["mean"]


def test_split_is_deterministic_disjoint_and_stratified() -> None:
    metas = [ScenarioMeta(name=f"{f}-{i}", path="x", faults=[f]) for f in "abcdef" for i in range(2)]
    train, test = split_scenarios(metas, "0.5", seed=1)
    again = split_scenarios(list(reversed(metas)), "0.5", seed=1)
    assert ([m.name for m in train], [m.name for m in test]) == ([m.name for m in again[0]], [m.name for m in again[1]])
    assert not {m.name for m in train} & {m.name for m in test}
    assert sorted(m.faults[0] for m in train) == list("abcdef")  # one of each fault in each half
    assert sorted(m.faults[0] for m in test) == list("abcdef")
    other = split_scenarios(metas, "0.5", seed=2)
    assert [m.name for m in other[0]] != [m.name for m in train]
    assert split_counts("3:2", 12) == (3, 2)
    with pytest.raises(ValueError):
        split_counts("10:5", 12)


def test_plan_with_split_trains_on_train_and_evaluates_on_test(tmp_path: Path) -> None:
    cfg = config(modes="student,atlas+capsules,capsules", split="3:3", iterations=2, repeats=1)
    from atlas_sre.bench.plan import resolve_scenarios

    plan = plan_bench(cfg, resolve_scenarios(cfg.scenarios, tmp_path), tmp_path)
    train = {t.scenario.name for t in plan.tasks if t.phase == "train"}
    evaluated = {t.scenario.name for t in plan.tasks if t.phase == "eval"}
    assert train == set(plan.train) and evaluated == set(plan.test) and not train & evaluated
    frozen = [t for t in plan.tasks if t.mode == "capsules"]
    assert frozen and all(t.store_group == "frozen" and not t.teach for t in frozen)
    memory = plan.chains[-1]
    assert [s.name for s in memory] == ["train-i0", "frozen", "acap-i1"]
    assert memory[1].before == [("train", "frozen"), ("frozen", "acap")]


def test_capsule_transfer_on_the_test_split(tmp_path: Path) -> None:
    cfg = config(scenarios=["builtin"], modes="student,atlas,atlas+capsules,capsules", split="0.5",
                 iterations=1, repeats=1)
    run = run_bench(cfg, tmp_path / "run", episode_runner=SyntheticEpisodeRunner(), progress=False)
    transfer = run.summary["transfer"]
    assert transfer["test_scenarios"] == len(run.plan.test) and transfer["train_scenarios"] == len(run.plan.train)
    assert transfer["capsules_vs_student_accuracy"] > 0
    assert transfer["teacher_tokens_atlas_capsules"] < transfer["teacher_tokens_atlas"]
    assert run.summary["capsule_stores"]["frozen"]["capsules"] == run.summary["capsule_stores"]["train"]["capsules"]
    used = {c for r in run.records if r.mode == "capsules" for c in r.capsules_used}
    assert used  # frozen capsules from training reached unseen test incidents


def test_parse_modes_validates_and_orders() -> None:
    assert parse_modes("capsules, student") == ["student", "capsules"]
    with pytest.raises(ValueError, match="valid modes"):
        parse_modes("student,teacher-only")


def test_results_jsonl_is_one_line_per_episode(tmp_path: Path) -> None:
    run = run_bench(config(iterations=1, repeats=1), tmp_path / "r", episode_runner=SyntheticEpisodeRunner(),
                    progress=False)
    lines = (tmp_path / "r" / "results.jsonl").read_text().splitlines()
    keys = [json.loads(line)["key"] for line in lines]
    assert sorted(keys) == sorted(r.key for r in run.records) and len(set(keys)) == len(keys)
    first = json.loads(lines[0])
    assert {"tokens", "grade", "ttr_s", "outcome", "capsules_used", "faults", "category"} <= set(first)
    assert all(json.loads(line)["ttr_s"] > 0 for line in lines)


def test_fast_scenario_metadata_matches_the_validating_loader() -> None:
    from atlas_sre.bench.plan import _validated_meta, scenario_meta
    from atlas_sre.scenarios.catalog import builtin_paths

    paths = builtin_paths()
    assert paths
    for path in paths:
        assert scenario_meta(path) == _validated_meta(path), path.name


def test_named_sets_core_and_library(tmp_path: Path) -> None:
    from atlas_sre.bench.plan import resolve_scenarios

    core = resolve_scenarios(["core"], tmp_path / "a")
    everything = resolve_scenarios(["builtin"], tmp_path / "b")
    library = resolve_scenarios(["library"], tmp_path / "c")
    assert {m.name for m in core} | {m.name for m in library} == {m.name for m in everything}
    assert "mesh-subset-missing" in {m.name for m in core}
    assert all(Path(m.path).is_relative_to(tmp_path / "a") for m in core)  # pinned into the run directory


def test_a_failing_consolidation_is_logged_not_fatal(tmp_path: Path) -> None:
    def broken(store: Any, record: dict[str, Any]) -> None:
        raise RuntimeError(f"cannot learn from {record['key']}")

    run = run_bench(config(modes="atlas+capsules", iterations=2, repeats=1), tmp_path / "r",
                    episode_runner=SyntheticEpisodeRunner(), consolidator=broken, progress=False)
    core = sum(1 for p in builtin_paths() if p.parent.name == "builtin")  # the hand-written set grows
    assert len(run.records) == core * 2
    errors = (tmp_path / "r" / "capsules" / "errors.jsonl").read_text().splitlines()
    assert len(errors) == core * 2 and "cannot learn from" in errors[0]
    assert not any(r.capsules_used for r in run.records)


def test_capsules_from_seeds_the_first_capsule_stage_and_never_writes_the_library(tmp_path: Path) -> None:
    first = run_bench(config(modes="atlas+capsules", iterations=2, repeats=1), tmp_path / "learn",
                      episode_runner=SyntheticEpisodeRunner(), progress=False)
    library = tmp_path / "learn" / "capsules" / "acap.sqlite"
    assert first.summary["capsule_stores"]["acap"]["capsules"] >= 1
    before = library.read_bytes()
    seeded = run_bench(config(modes="atlas+capsules", iterations=1, repeats=1, capsules_from=str(library)),
                       tmp_path / "seeded", episode_runner=SyntheticEpisodeRunner(), progress=False)
    assert any(r.capsules_used for r in seeded.records)  # iteration 0 read the library, not an empty store
    cold = run_bench(config(modes="atlas+capsules", iterations=1, repeats=1), tmp_path / "cold",
                     episode_runner=SyntheticEpisodeRunner(), progress=False)
    assert not any(r.capsules_used for r in cold.records)
    assert library.read_bytes() == before


def test_capsules_from_refuses_a_missing_or_foreign_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such capsule store"):
        run_bench(config(capsules_from=str(tmp_path / "nope.sqlite")), tmp_path / "a",
                  episode_runner=SyntheticEpisodeRunner(), progress=False)
    foreign = tmp_path / "foreign.sqlite"
    foreign.write_text("not a database")
    with pytest.raises(ValueError, match="not a capsule store"):
        run_bench(config(capsules_from=str(foreign)), tmp_path / "b",
                  episode_runner=SyntheticEpisodeRunner(), progress=False)


def test_a_capsule_is_never_judged_on_the_stage_that_created_it(tmp_path: Path) -> None:
    """One stage over 120+ incidents: everything it learns is born after all of them, so none is too specific."""
    from atlas_sre.capsules import CapsuleStore

    run = run_bench(config(scenarios=["builtin"], modes="atlas+capsules", iterations=1, repeats=1),
                    tmp_path / "run", episode_runner=SyntheticEpisodeRunner(), progress=False)
    with CapsuleStore(tmp_path / "run" / "capsules" / "acap.sqlite") as store:
        capsules = store.list()
        seen = store.counters()["incidents_seen"]
    assert seen == len(run.records) > 100 and capsules
    assert {c.born_at_incident for c in capsules} == {seen}
    assert not (tmp_path / "run" / "capsules" / "pruning.jsonl").exists()


def test_training_passes_are_reported_one_by_one(tmp_path: Path) -> None:
    cfg = config(modes="student,atlas+capsules,capsules", split="3:3", iterations=1, repeats=1, train_iterations=2)
    run = run_bench(cfg, tmp_path / "run", episode_runner=SyntheticEpisodeRunner(), progress=False)
    passes = run.summary["train_by_pass"]
    assert list(passes) == ["0", "1"] and all(p["n"] == 3 for p in passes.values())
    assert sum(p["n"] for p in passes.values()) == run.summary["train"]["n"]
    md = (run.out / "report.md").read_text()
    assert "## Training passes" in md and "\n| 1 | 3 |" in md

"""Which episodes a benchmark runs, in which order: scenario sets, the train/test split, stages.

Why stages: `atlas+capsules` must see, at iteration k+1, exactly the capsules consolidated from
iteration k, and `capsules` must see the capsules frozen at the end of training. So episodes are
grouped into *chains* of *stages*: the episodes of one stage run in parallel; the parent
consolidates a finished stage in a fixed order before the next stage starts. Chains run side by
side (the memory-free modes never wait for the memory ones). Same config → same plan, always.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from atlas_sre.bench.config import TEACHING, BenchConfig, EpisodeTask, ScenarioMeta, episode_key, safe_name
from atlas_sre.scenarios.build import implied_truth
from atlas_sre.scenarios.catalog import builtin_paths, expand_paths
from atlas_sre.scenarios.generator.generate import generate, write
from atlas_sre.scenarios.loader import load_path

TRAIN_STORE, FROZEN_STORE, ACAP_STORE = "train", "frozen", "acap"
CONSOLIDATING = frozenset({TRAIN_STORE, ACAP_STORE})
"""Store groups that learn from their episodes; `frozen` is read-only by definition."""


@dataclass
class Stage:
    """Episodes that may run at once; `before` copies stores (src group → dst group) first."""

    name: str
    tasks: list[EpisodeTask] = field(default_factory=list)
    before: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class BenchPlan:
    chains: list[list[Stage]]
    train: list[str]
    test: list[str]
    split: bool

    @property
    def tasks(self) -> list[EpisodeTask]:
        return [t for chain in self.chains for stage in chain for t in stage.tasks]


# --- scenario sets ---------------------------------------------------------------------------------


def scenario_meta(path: Path) -> ScenarioMeta:
    """Name, faults, category, complexity, domain of one scenario file (hidden from agents).

    Read with libyaml straight from the document: the full validating loader costs ~40 ms a
    file, which a 120-scenario library pays at every (re)start. Files that are not plain
    mappings, or that leave the truth to their fault injectors, go through the real loader.
    """
    data = _fast_yaml(path)
    meta, spec = (data.get("metadata") or {}, data.get("spec") or {}) if isinstance(data, dict) else ({}, {})
    truth = spec.get("groundTruth") or {}
    if not meta.get("name") or (spec.get("faults") and not truth.get("rootCauses")):
        return _validated_meta(path)
    labels = meta.get("labels") or {}
    faults = [f["id"] for f in spec.get("faults") or []] or [x for x in str(labels.get("fault", "")).split(",") if x]
    roots = truth.get("rootCauses") or []
    category = str(roots[0].get("category", "Misconfiguration")) if roots else "none"
    return ScenarioMeta(name=str(meta["name"]), path=str(path), faults=faults or ([] if roots else ["no-fault"]),
                        category=category, complexity=str(labels.get("complexity", "unknown")),
                        domain=str(labels.get("domain", "unknown")))


def _fast_yaml(path: Path) -> object:
    p = path / "scenario.yaml" if path.is_dir() else path
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(p.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return None  # the validating loader reports it properly


def _validated_meta(path: Path) -> ScenarioMeta:
    scenario = load_path(path)
    labels = scenario.metadata.labels
    faults = [f.id for f in scenario.spec.faults] or [x for x in labels.get("fault", "").split(",") if x]
    roots = scenario.spec.groundTruth.rootCauses
    if not roots and scenario.spec.faults:
        roots = implied_truth(scenario).rootCauses
    category = roots[0].category if roots else "none"
    return ScenarioMeta(
        name=scenario.metadata.name, path=str(path), faults=faults or ([] if roots else ["no-fault"]),
        category=category, complexity=labels.get("complexity", "unknown"), domain=labels.get("domain", "unknown"),
    )


def _generated(spec: str, out_dir: Path) -> list[Path]:
    """`generated:N[:SEED]` → N gated scenarios written under `out_dir/scenarios` (reused if there)."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts[1:]):
        raise ValueError(f"scenario set {spec!r}: write generated:COUNT or generated:COUNT:SEED")
    count, seed = int(parts[1]), int(parts[2]) if len(parts) == 3 else 0
    folder = out_dir / "scenarios" / f"generated-{count}-{seed}"
    existing = sorted(folder.glob("*.yaml"))
    if existing:
        return existing
    return write(generate(count, seed), folder)


def resolve_scenarios(specs: list[str], out_dir: Path) -> list[ScenarioMeta]:
    """`builtin` (every shipped scenario: `core` hand-written + `library` generated), `generated:N[:SEED]`,
    folders, files or built-in names.

    Sorted by name and de-duplicated, so the order a user lists sets in never changes a number.
    The first call for a run directory copies every scenario into it (`scenarios/pinned/`) and
    records the set in `scenarios/pinned.json`; later calls (a resume) read that record, so a
    library regenerated or edited meanwhile never changes the incidents under a running benchmark.
    """
    record = out_dir / "scenarios" / "pinned.json"
    if record.exists():
        return [ScenarioMeta.model_validate(m) for m in json.loads(record.read_text(encoding="utf-8"))]
    metas = collect_scenarios(specs, out_dir)
    pinned = [pin_scenario(metas[n], out_dir) for n in sorted(metas)]
    tmp = record.with_suffix(".tmp")
    tmp.write_text(json.dumps([m.model_dump() for m in pinned], indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, record)
    return pinned


def collect_scenarios(specs: list[str], out_dir: Path) -> dict[str, ScenarioMeta]:
    """The scenarios `specs` name, by name, where they are (no pinning); `generated:N` writes under `out_dir`.

    `resolve_scenarios` pins these for a benchmark; the Inspect task (`atlas_sre.inspect`) reads them as they are.
    """
    paths: list[Path] = []
    for spec in specs:
        if spec in ("builtin", "all"):
            paths.extend(builtin_paths())
        elif spec in ("core", "library"):  # the hand-written built-ins / the generated library
            paths.extend(p for p in builtin_paths() if (p.parent.name == "builtin") == (spec == "core"))
        elif spec.startswith("generated:"):
            paths.extend(_generated(spec, out_dir))
        else:
            paths.extend(expand_paths([spec]))
    metas: dict[str, ScenarioMeta] = {}
    for path in paths:
        meta = scenario_meta(path)
        seen = metas.get(meta.name)
        if seen is not None and Path(seen.path).resolve() != path.resolve():
            raise ValueError(f"two scenarios are named {meta.name!r}: {seen.path} and {path}")
        metas.setdefault(meta.name, meta)
    if not metas:
        raise ValueError(f"no scenarios found in {', '.join(specs)}")
    return metas


def pin_scenario(meta: ScenarioMeta, out_dir: Path) -> ScenarioMeta:
    """A copy of the scenario inside the run directory, and its meta pointing at the copy."""
    src = Path(meta.path)
    dst = out_dir / "scenarios" / "pinned" / meta.name
    if src.is_dir():
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst)
        return meta.model_copy(update={"path": str(dst)})
    target = dst.with_suffix(".yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, target)
    return meta.model_copy(update={"path": str(target)})


# --- split -----------------------------------------------------------------------------------------


def split_counts(split: str, n: int) -> tuple[int, int]:
    """(train, test) sizes for `0.5`-style fractions or `6:6`-style counts; both halves non-empty."""
    if ":" in split:
        a, b = (int(x) for x in split.split(":"))
        if a < 1 or b < 1 or a + b > n:
            raise ValueError(f"--split {split}: need 1+ train and 1+ test scenarios, at most {n} in all")
        return a, b
    if n < 2:
        raise ValueError(f"--split needs at least 2 scenarios, the set has {n}")
    a = min(max(round(n * float(split)), 1), n - 1)
    return a, n - a


def split_scenarios(metas: list[ScenarioMeta], split: str, seed: int) -> tuple[list[ScenarioMeta], list[ScenarioMeta]]:
    """Deterministic, fault-stratified split: each fault's scenarios are dealt out in turn.

    Scenarios are grouped by their first fault (category for hand-written ones), each group is
    shuffled with the seed, then groups are interleaved: the first pick of every group comes
    before any second pick. Training therefore sees one incident of each fault before a second
    one, and the test half holds unseen *incidents* of faults training has met — what capsule
    transfer is meant to measure.
    """
    n_train, n_test = split_counts(split, len(metas))
    rng = random.Random(f"atlas-sre-split:{seed}")
    groups: dict[str, list[ScenarioMeta]] = defaultdict(list)
    for m in metas:
        groups[m.faults[0] if m.faults else m.category].append(m)
    ordered_groups = [sorted(groups[k], key=lambda m: m.name) for k in sorted(groups)]
    for members in ordered_groups:
        rng.shuffle(members)
    rng.shuffle(ordered_groups)
    dealt: list[ScenarioMeta] = []
    for depth in range(max(len(g) for g in ordered_groups)):
        dealt.extend(g[depth] for g in ordered_groups if depth < len(g))
    train = sorted(dealt[:n_train], key=lambda m: m.name)
    test = sorted(dealt[n_train:n_train + n_test], key=lambda m: m.name)
    return train, test


# --- plan ------------------------------------------------------------------------------------------


def episode_seed(seed: int, scenario: str, repeat: int) -> int:
    """Per-incident seed shared by every mode and iteration: modes differ only in what they do."""
    digest = hashlib.sha256(f"{seed}:{scenario}:{repeat}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _task(cfg: BenchConfig, run_dir: Path, meta: ScenarioMeta, mode: str, iteration: int, repeat: int,
          phase: str = "eval", group: str | None = None) -> EpisodeTask:
    key = episode_key(phase, mode, meta.name, iteration, repeat)
    return EpisodeTask(
        key=key, phase=phase, scenario=meta, mode=mode, iteration=iteration, repeat=repeat,  # type: ignore[arg-type]
        seed=episode_seed(cfg.seed, meta.name, repeat), teach=TEACHING[mode], store_group=group,
        student=cfg.student, teacher=cfg.teacher, probe_token_limit=cfg.probe_token_limit,
        correction_token_limit=cfg.correction_token_limit, max_steps=cfg.max_steps, tool_mode=cfg.tool_mode,
        no_analyzer=cfg.no_analyzer, teacher_prompts=cfg.teacher_prompts,
        run_dir=str(run_dir), trace_path=str(run_dir / "traces" / f"{safe_name(key)}.json"),
    )


def plan_bench(cfg: BenchConfig, metas: list[ScenarioMeta], run_dir: Path) -> BenchPlan:
    """Chains of stages for every (scenario, mode, iteration, repeat) the config asks for.

    With a split every mode is evaluated on the test half; training (`atlas+capsules` over the
    train half, `train_iterations` passes, repeat 0) fills the store that `capsules` reads frozen
    and that `atlas+capsules` starts from. Without a split `capsules` trains on the whole set
    (recall of seen incidents, not transfer) and `atlas+capsules` starts from an empty store.
    """
    split = cfg.split is not None
    train, test = split_scenarios(metas, cfg.split, cfg.seed) if cfg.split else (metas, metas)
    reps, its = range(cfg.repeats), range(cfg.iterations)
    free = [_task(cfg, run_dir, m, mode, i, r) for mode in cfg.modes if mode in ("student", "atlas")
            for m in test for i in its for r in reps]
    chains: list[list[Stage]] = [[Stage("free", free)]] if free else []
    acap = "atlas+capsules" in cfg.modes
    needs_train = "capsules" in cfg.modes or (split and acap)
    memory: list[Stage] = []
    if needs_train:
        memory += [Stage(f"train-i{i}", [_task(cfg, run_dir, m, "atlas+capsules", i, 0, "train", TRAIN_STORE)
                                         for m in train]) for i in range(cfg.train_iterations)]
        memory.append(Stage("frozen", before=[(TRAIN_STORE, FROZEN_STORE)]
                            + ([(FROZEN_STORE, ACAP_STORE)] if split and acap else [])))
        if "capsules" in cfg.modes:
            memory[-1].tasks += [_task(cfg, run_dir, m, "capsules", i, r, group=FROZEN_STORE)
                                 for m in test for i in its for r in reps]
    if acap:
        for i in its:
            tasks = [_task(cfg, run_dir, m, "atlas+capsules", i, r, group=ACAP_STORE) for m in test for r in reps]
            if i == 0 and memory and memory[-1].name == "frozen":
                memory[-1].tasks += tasks
            else:
                memory.append(Stage(f"acap-i{i}", tasks))
    if memory:
        chains.append(memory)
    return BenchPlan(chains=chains, train=[m.name for m in train] if needs_train else [],
                     test=[m.name for m in test], split=split)

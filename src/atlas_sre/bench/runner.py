"""The benchmark runner: scenarios × modes × iterations × repeats → results, summary, reports.

An evaluation is dataset + solver + scorer (Inspect AI): the dataset is the scenario set, the
solver is an `EpisodeRunner` (one protocol run on its own simulator), the scorer is
the grading room (`grading/`). This module only orders the work:

- plan (`plan.py`): chains of stages; episodes in a stage run in parallel (spawn workers);
- after a stage, the parent consolidates its taught episodes into the run's capsule store in key
  order, so iteration k+1 of `atlas+capsules` reads exactly what iteration k taught — whatever
  the number of workers or the order episodes finished in;
- every finished episode is appended (fsync) to `results.jsonl`; a restarted run skips the keys
  already there and rebuilds the capsule stores by replaying finished stages;
- at the end `report.write_reports` derives `summary.json`, `report.md` and `report.html`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from atlas_sre.bench.config import BenchConfig, EpisodeResult, EpisodeTask, auto_workers
from atlas_sre.bench.episode import ProtocolEpisodeRunner
from atlas_sre.bench.executor import Consolidator, EpisodeRunner, make_pool
from atlas_sre.bench.external import ExternalEpisodeRunner
from atlas_sre.bench.plan import ACAP_STORE, CONSOLIDATING, TRAIN_STORE, BenchPlan, Stage, plan_bench, resolve_scenarios
from atlas_sre.bench.report import write_reports
from atlas_sre.bench.results import ResultLog, StoreFiles, write_json
from atlas_sre.bench.ttr import DEFAULT_TTR, TTRModel, size_of
from atlas_sre.capsules import CapsuleStore, SchemaTooNewError, prune
from atlas_sre.capsules.consolidate import consolidate as consolidate_capsules
from atlas_sre.capsules.ledger import batch_counts, census
from atlas_sre.capsules.pg import is_url

log = logging.getLogger(__name__)


@dataclass
class BenchRun:
    """What `run_bench` leaves behind (also on disk under `out`)."""

    out: Path
    plan: BenchPlan
    records: list[EpisodeResult]
    summary: dict[str, Any]
    timings: dict[str, float]


def default_consolidator() -> Consolidator:
    """The capsule room's `consolidate`: what a run learns from when its episode runner has no own."""
    return consolidate_capsules


def episode_ttr(result: EpisodeResult, cfg: BenchConfig, model: TTRModel = DEFAULT_TTR) -> float:
    """Modeled time-to-resolution of the episode's (taught, if taught) investigation."""
    per_role: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for name, use in result.tokens.items():
        role = name.split(".", 1)[0]
        prompt, completion = per_role[role]
        per_role[role] = (prompt + use.prompt, completion + use.completion)
    sizes = {"student": cfg.student_size or size_of(cfg.student), "teacher": cfg.teacher_size or size_of(cfg.teacher)}
    return model.seconds(result.commands, result.output_lines, dict(per_role), sizes)


def check_config(out: Path, cfg: BenchConfig) -> None:
    """Refuse to resume a run directory that holds a different benchmark (mixing would lie)."""
    path = out / "config.json"
    if path.exists():
        saved = BenchConfig.model_validate(json.loads(path.read_text(encoding="utf-8")))
        if saved.identity() != cfg.identity():
            diff = sorted(k for k, v in cfg.identity().items() if saved.identity().get(k) != v)
            raise ValueError(f"{out} holds a run with a different configuration ({', '.join(diff)}); "
                             f"choose another --out or delete it")
    if cfg.capsules_from:
        check_library(cfg.capsules_from)
    write_json(path, cfg.model_dump())


def check_library(library: str | Path) -> None:
    """A `--capsules-from` store must exist and be a capsule store; it is only ever read (copied).

    A PostgreSQL URL must not carry a password: the config (and so the URL) is saved in the run
    folder; libpq reads the password from $PGPASSWORD or ~/.pgpass instead.
    """
    if is_url(library):
        if urlsplit(str(library)).password:
            raise ValueError("--capsules-from: put the password in $PGPASSWORD or ~/.pgpass, not in the URL "
                             "(the run folder keeps the URL)")
        try:
            CapsuleStore(library, read_only=True).close()
        except (sqlite3.Error, SchemaTooNewError) as exc:
            raise ValueError(f"--capsules-from {library}: {exc}") from None
        return
    path = Path(library)
    if not path.is_file():
        raise ValueError(f"--capsules-from {path}: no such capsule store")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            db.execute("SELECT count(*) FROM capsules").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"--capsules-from {path}: not a capsule store ({exc})") from None


def consolidation_record(result: EpisodeResult, run_dir: Path) -> dict[str, Any]:
    """What consolidation reads: the episode record plus its full protocol trace (if written)."""
    record = result.model_dump()
    if result.trace:
        trace = run_dir / result.trace
        if trace.exists():
            record["trace"] = json.loads(trace.read_text(encoding="utf-8"))
    return record


class _Scheduler:
    """Walks the plan's chains stage by stage, feeding a pool and consolidating finished stages."""

    def __init__(self, plan: BenchPlan, cfg: BenchConfig, out: Path, runner: EpisodeRunner,
                 consolidate: Consolidator | None, done: dict[str, EpisodeResult], retry_errors: bool) -> None:
        self.plan, self.cfg, self.out = plan, cfg, out
        self.runner, self.consolidate = runner, consolidate
        self.done = {k: r for k, r in done.items() if not (retry_errors and r.outcome == "error")}
        self.log = ResultLog(out / "results.jsonl")
        self.stores = StoreFiles(out)
        self.position = [0] * len(plan.chains)
        self.outstanding: list[set[str]] = [set() for _ in plan.chains]
        self.pool: Any = None
        self.on_result: Any = None

    def run(self) -> None:
        self.stores.reset()
        if self.cfg.capsules_from:
            self.stores.seed(self.cfg.capsules_from, (TRAIN_STORE, ACAP_STORE))
        self.pool = make_pool(self.runner, self.cfg.workers or auto_workers(), self.cfg.executor,
                              self.cfg.ray_address)
        try:
            for ci in range(len(self.plan.chains)):
                self._start(ci)
            while self.pool.busy:
                for task, result in self.pool.next_done():
                    self._record(task, result)
        finally:
            self.pool.close()
        missing = [t.key for t in self.plan.tasks if t.key not in self.done]
        if missing:
            raise RuntimeError(f"{len(missing)} planned episodes produced no record (first: {missing[0]})")

    def _stage(self, ci: int) -> Stage:
        return self.plan.chains[ci][self.position[ci]]

    def _start(self, ci: int) -> None:
        stage = self._stage(ci)
        for src, dst in stage.before:
            self.stores.copy(src, dst)
        groups = sorted({t.store_group for t in stage.tasks if t.store_group})
        snapshots = {g: str(self.stores.snapshot(g, stage.name)) for g in groups}
        for task in stage.tasks:
            if task.key in self.done:
                continue
            if task.store_group:
                task = task.model_copy(update={"capsule_store": snapshots[task.store_group]})
            self.outstanding[ci].add(task.key)
            self.pool.submit(task)
        if not self.outstanding[ci]:
            self._finish(ci)

    def _record(self, task: EpisodeTask, result: EpisodeResult) -> None:
        result.ttr_s = episode_ttr(result, self.cfg)
        self.log.append(result)
        self.done[task.key] = result
        if self.on_result:
            self.on_result(result)
        for ci, keys in enumerate(self.outstanding):
            if task.key in keys:
                keys.discard(task.key)
                if not keys:
                    self._finish(ci)

    def _finish(self, ci: int) -> None:
        self._consolidate(self._stage(ci))
        self.position[ci] += 1
        if self.position[ci] < len(self.plan.chains[ci]):
            self._start(ci)

    def _consolidate(self, stage: Stage) -> None:
        """Learn from a finished stage's taught episodes, in key order (determinism)."""
        by_group: dict[str, list[EpisodeResult]] = defaultdict(list)
        for task in sorted(stage.tasks, key=lambda t: t.key):
            if task.store_group in CONSOLIDATING:
                by_group[task.store_group].append(self.done[task.key])
        if not by_group:
            return
        for group, results in sorted(by_group.items()):
            with CapsuleStore(self.stores.live(group)) as store:
                before = census(store)
                # Count the stage's incidents before learning from them: a capsule born here could
                # not have fired on any of them, so it is judged only on incidents after this stage.
                for _ in results:
                    store.record_incident()
                for result in results:
                    if self.consolidate is not None and result.outcome != "error":
                        self._learn(store, result)
                # keep only what helps: harmful / neutral / too-specific capsules are demoted (logged)
                decisions = prune(store)
                counts = batch_counts(before, census(store), decisions)
            # learnt / merged / kept / retired this stage, for the report (`report._consolidation`)
            with (self.stores.root / "consolidation.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"stage": stage.name, "group": group, "episodes": len(results), **counts}) + "\n")
            if decisions:
                with (self.stores.root / "pruning.jsonl").open("a", encoding="utf-8") as fh:
                    for d in decisions:
                        fh.write(json.dumps({"stage": stage.name, "group": group, **d.model_dump(mode="json")}) + "\n")

    def _learn(self, store: Any, result: EpisodeResult) -> None:
        """One consolidation; a failure is logged (capsules/errors.jsonl), never the run's end."""
        try:
            self.consolidate(store, consolidation_record(result, self.out))  # type: ignore[misc]
        except Exception as exc:
            log.warning("consolidation of %s failed: %s", result.key, exc)
            with (self.stores.root / "errors.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"key": result.key, "error": f"{type(exc).__name__}: {exc}"}) + "\n")


def run_bench(
    cfg: BenchConfig,
    out: str | Path,
    *,
    episode_runner: EpisodeRunner | None = None,
    consolidator: Consolidator | None = None,
    progress: bool = True,
    retry_errors: bool = False,
) -> BenchRun:
    """Run (or resume) a benchmark into `out` and write its reports.

    `episode_runner` defaults to the real protocol (`ProtocolEpisodeRunner`), or to the outside agent
    command when `cfg.agent` is set (`ExternalEpisodeRunner`); `consolidator`
    defaults to the runner's own `consolidate` method if it has one, else the capsule room's.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    check_config(out, cfg)
    metas = resolve_scenarios(cfg.scenarios, out)
    plan = plan_bench(cfg, metas, out)
    if episode_runner is None:
        episode_runner = (ExternalEpisodeRunner(agent=cfg.agent, timeout_s=cfg.agent_timeout_s) if cfg.agent
                          else ProtocolEpisodeRunner())
    consolidate = consolidator or getattr(episode_runner, "consolidate", None) or default_consolidator()
    done = ResultLog(out / "results.jsonl").load()
    planned = {t.key for t in plan.tasks}
    scheduler = _Scheduler(plan, cfg, out, episode_runner, consolidate, done, retry_errors)
    started = time.perf_counter()
    with _progress(progress, len(planned), sum(k in planned for k in scheduler.done)) as advance:
        scheduler.on_result = advance
        scheduler.run()
    episodes_s = time.perf_counter() - started
    records = sorted((r for k, r in scheduler.done.items() if k in planned), key=lambda r: r.key)
    if consolidate is None and any(t.store_group for t in plan.tasks):
        log.warning("no capsule consolidation available: capsule modes run with empty stores")
    summary = write_reports(out, records, cfg)
    timings = {"episodes_s": round(episodes_s, 3), "reports_s": round(time.perf_counter() - started - episodes_s, 3),
               "ran": len(records) - sum(k in planned for k in done)}
    return BenchRun(out=out, plan=plan, records=records, summary=summary, timings=timings)


class _progress:  # noqa: N801 - used as a context manager like a function
    """A rich progress bar on stderr (nothing at all when disabled)."""

    def __init__(self, enabled: bool, total: int, completed: int) -> None:
        self.enabled, self.total, self.completed = enabled, total, completed
        self._bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda result: None
        self._bar = Progress(TextColumn("[bold]bench"), BarColumn(), MofNCompleteColumn(),
                             TimeRemainingColumn(), TextColumn("{task.description}"),
                             console=Console(stderr=True), transient=False)
        self._bar.start()
        task = self._bar.add_task("", total=self.total, completed=self.completed)

        def advance(result: EpisodeResult) -> None:
            mark = "ok" if result.correct else result.outcome if result.outcome != "submitted" else "wrong"
            self._bar.update(task, advance=1, description=f"{result.mode} {result.scenario} {mark}")

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

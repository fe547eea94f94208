"""A synthetic, simulator-free episode function: the runner's test double and overhead yardstick.

Why it lives in the package: `spawn` workers must import whatever episode function they are
handed, and tests, `bench/throughput.py` and the docs all need one that behaves like the real
protocol (baseline inside taught episodes, tokens per role and phase, capsules that help once
learned) in microseconds and without randomness outside the episode seed. It can also crash on
purpose — raise (a runner crash), exit the worker process (a killed worker) or fail (an episode
error) — once per run directory, so resume can be tested end to end.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from atlas_sre.bench.config import (
    BaselineFields,
    EpisodeResult,
    EpisodeTask,
    GradeFields,
    TokenUse,
    safe_name,
)
from atlas_sre.capsules import RETRIEVABLE, Capsule, CapsuleStore


class SimulatedCrash(BaseException):  # noqa: N818 - a crash, not an error an episode may catch
    """Stands for the runner process dying (BaseException: the episode wrapper does not catch it)."""


def _grade(correct: bool) -> GradeFields:
    return GradeFields(precision=float(correct), recall=float(correct), f1=float(correct),
                       strict=float(correct), proximity=float(correct), correct=correct)


def synthetic_consolidate(store: Any, record: dict[str, Any]) -> Any:
    """Learn a capsule from a correct taught episode (the real consolidation's shape, no content)."""
    if not record.get("teaching") or not (record.get("grade") or {}).get("correct"):
        return None
    fault = (record.get("faults") or ["none"])[0]
    capsule = Capsule(skill=f"diagnose {fault}", trigger=f"incident symptoms of {fault}",
                      procedure=[f"check the objects {fault} breaks"], source="teacher_correction",
                      metadata={"fault": fault})
    return store.upsert(capsule)


class SyntheticEpisodeRunner(BaseModel):
    """Deterministic outcomes from (seed, scenario): student < taught < taught with a capsule."""

    p_student: float = Field(0.35, description="chance the student alone is right")
    p_taught: float = Field(0.75, description="chance teaching fixes a wrong answer")
    p_degrade: float = Field(0.05, description="chance teaching spoils a right answer (a capsule: half this, always)")
    sleep_s: float = Field(0.0, description="wall time an episode pretends to take")
    crash_key: str | None = Field(None, description="the episode key that crashes once per run directory")
    crash_kind: Literal["raise", "exit", "error"] = Field("raise", description="how it crashes (see module doc)")

    def _maybe_crash(self, task: EpisodeTask) -> None:
        if task.key != self.crash_key:
            return
        marker = Path(task.run_dir) / f".synthetic-crash-{safe_name(task.key)}"
        if marker.exists():
            return  # crash once per run directory: the resumed run must get through
        marker.write_text("crashed\n")
        if self.crash_kind == "exit":
            os._exit(3)
        if self.crash_kind == "error":
            raise RuntimeError(f"synthetic episode failure in {task.key}")
        raise SimulatedCrash(task.key)

    def _capsules(self, task: EpisodeTask) -> list[str]:
        if not task.capsule_store:
            return []
        fault = (task.scenario.faults or ["none"])[0]
        with CapsuleStore(task.capsule_store) as store:
            return [c.id for c in store.list(RETRIEVABLE) if c.metadata.get("fault") == fault]

    def run(self, task: EpisodeTask) -> EpisodeResult:
        started = time.perf_counter()
        self._maybe_crash(task)
        if self.sleep_s:
            time.sleep(self.sleep_s)
        rng = random.Random(f"{task.seed}:{task.scenario.name}")
        u, v = rng.random(), rng.random()
        student_ok = u < self.p_student
        used = self._capsules(task)
        if used:
            ok, steps = v >= self.p_degrade / 2, 4
        elif task.teach:
            ok, steps = (v >= self.p_degrade) if student_ok else (v < self.p_taught), 6
        else:
            ok, steps = student_ok, 8
        tokens = {"student.plan": TokenUse(prompt=300, completion=60),
                  "student.execute": TokenUse(prompt=700 * steps, completion=40 * steps)}
        baseline = None
        if task.teach:
            light = bool(used) or student_ok
            tokens["teacher.probe"] = TokenUse(prompt=420, completion=12)
            tokens["teacher.correct"] = TokenUse(prompt=460, completion=30 if light else 150)
            baseline = BaselineFields(correct=student_ok, strict=float(student_ok), f1=float(student_ok),
                                      student_tokens=300 + 60 + 740 * 8, commands=8)
        return EpisodeResult(
            key=task.key, phase=task.phase, scenario=task.scenario.name, faults=task.scenario.faults,
            category=task.scenario.category, complexity=task.scenario.complexity, domain=task.scenario.domain,
            mode=task.mode, iteration=task.iteration, repeat=task.repeat, seed=task.seed,
            outcome="submitted", diagnosis={"entities": [], "category": task.scenario.category if ok else ""},
            grade=_grade(ok), baseline=baseline, tokens=tokens, commands=steps, output_lines=18 * steps,
            wall_s=round(time.perf_counter() - started, 6), capsules_used=used, capsules_retrieved=used,
            teaching={"strategy": "Light" if baseline and baseline.correct else "Medium"} if task.teach else None,
        )

    def consolidate(self, store: Any, record: dict[str, Any]) -> Any:
        return synthetic_consolidate(store, record)

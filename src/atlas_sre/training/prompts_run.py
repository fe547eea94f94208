"""`atlas-sre train prompts`: evolve the LLM teacher's templates with GEPA, judged on held-out scenarios.

The scenarios are split by scenario (`bench.plan.split_scenarios`, the benchmark's own split): GEPA
sees only the training half, as minibatches to reflect on and as its validation set to pick the best
candidate from; the held-out half is run twice, with the packaged templates and with the evolved
ones, and only those two figures are reported. `budget` is GEPA's `max_metric_calls`: the number of
guided episodes it may run (the held-out runs are not counted in it).

Output folder: the evolved templates under their packaged file names (`--teacher-prompts DIR` reads
them back), `prompts.json` (settings, before/after held-out accuracy, per-scenario results, GEPA's
candidates and scores), `gepa/` (GEPA's state and log: a rerun with the same folder resumes, with a
larger `--budget` it goes on), `settings.json` (a rerun with other settings is refused) and
`scenarios/` (the pinned scenario set, as `bench` pins it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atlas_sre.agents.factory import make_student, parse_agent_spec, resolve_model
from atlas_sre.agents.llm.teacher_prompts import TEACHER_PROMPTS, as_template, packaged_prompts, write_teacher_prompts
from atlas_sre.bench.config import BenchConfig, ScenarioMeta
from atlas_sre.bench.plan import resolve_scenarios, split_scenarios
from atlas_sre.models.base import ModelError
from atlas_sre.training.prompts_eval import TaughtRun, accuracy, episode_evaluator
from atlas_sre.training.prompts_gepa import TeacherPromptAdapter, UsedComponents, reflection_lm, reflection_templates

INSTALL_HINT = "the gepa package is missing: pip install 'atlas-sre[train]'"


class PromptSettings(BaseModel):
    """What `train prompts` is asked to do."""

    model_config = ConfigDict(extra="forbid")

    teacher: str = Field(min_length=1, description="an LLM teacher spec: openai:MODEL@URL, llamacpp:NAME, hf:...")
    out: str = Field(min_length=1)
    scenarios: list[str] = Field(default_factory=lambda: ["core"])
    split: str = "0.5"
    budget: int = Field(default=40, ge=1, description="GEPA's max_metric_calls: guided episodes it may run")
    reflection_model: str | None = Field(default=None, description="default: the teacher's own model")
    reflection_max_tokens: int = Field(default=768, ge=64)
    student: str = "reference:student"
    components: list[str] = Field(default_factory=lambda: list(TEACHER_PROMPTS))
    minibatch: int = Field(default=3, ge=1)
    max_steps: int = Field(default=20, ge=1)
    seed: int = 0


@dataclass
class PromptEvolution:
    """What a run produced (also in `out/prompts.json`)."""

    out: Path
    before: float
    after: float
    heldout: list[str]
    train: list[str]
    improved_templates: list[str]
    metric_calls: int
    candidates: int


def _check(settings: PromptSettings) -> None:
    """Bad settings as one-line ValueErrors, before anything is loaded."""
    try:
        reference = parse_agent_spec(settings.teacher)
        if settings.reflection_model:
            parse_agent_spec(settings.reflection_model)
    except ModelError as exc:  # a malformed spec is a usage error, not a failing server
        raise ValueError(str(exc)) from None
    if reference is not None:
        raise ValueError("--teacher must be a model (openai:MODEL@URL, llamacpp:NAME, ...): the reference teacher "
                         "writes from its curriculum, not from prompts")
    unknown = [c for c in settings.components if c not in TEACHER_PROMPTS]
    if unknown or not settings.components:
        raise ValueError(f"unknown --components {', '.join(unknown) or '(none)'}: "
                         f"valid are {', '.join(TEACHER_PROMPTS)}")
    BenchConfig(split=settings.split)  # the benchmark's own check of --split


def check_resume(out: Path, settings: PromptSettings) -> None:
    """Refuse a folder that holds another evolution (GEPA would resume it); a larger `budget` continues one."""
    path = out / "settings.json"
    mine = settings.model_dump(exclude={"budget", "out"})
    if path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        diff = sorted(k for k in mine if saved.get(k) != mine[k])
        if diff:
            raise ValueError(f"{out} holds a prompt evolution with other settings ({', '.join(diff)}); "
                             f"choose another --out or delete it")
    path.write_text(json.dumps(mine, indent=1) + "\n", encoding="utf-8")


def split_for(settings: PromptSettings) -> tuple[list[ScenarioMeta], list[ScenarioMeta]]:
    """(train, held-out) scenarios: the benchmark's resolution and fault-stratified split."""
    metas = resolve_scenarios(settings.scenarios, Path(settings.out))
    train, test = split_scenarios(metas, settings.split, settings.seed)
    return train, test


def evolve_teacher_prompts(settings: PromptSettings, *, teacher_model: Any = None, reflection_model: Any = None,
                           log: Callable[[str], None] = lambda line: None) -> PromptEvolution:
    """Measure, evolve, measure again, write. `teacher_model` / `reflection_model`: ready `ChatModel`s
    instead of the specs (tests and callers that already hold a model)."""
    _check(settings)
    try:
        import gepa
    except ImportError:
        raise ValueError(INSTALL_HINT) from None
    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    check_resume(out, settings)
    train, test = split_for(settings)
    teacher = teacher_model if teacher_model is not None else resolve_model(settings.teacher)
    reflector = reflection_model if reflection_model is not None else (
        resolve_model(settings.reflection_model) if settings.reflection_model else teacher)
    student = make_student(settings.student, max_steps=settings.max_steps)
    evaluate = episode_evaluator(teacher, student, max_steps=settings.max_steps)
    seed = packaged_prompts(tuple(settings.components))

    log(f"held-out before: {len(test)} scenarios with the packaged prompts")
    before = [evaluate(seed, m) for m in test]
    log(f"held-out before: {accuracy(before):.2f}; evolving on {len(train)} scenarios, budget {settings.budget}")
    result = gepa.optimize(
        seed_candidate=seed, trainset=train, valset=train, adapter=TeacherPromptAdapter(evaluate),
        reflection_lm=reflection_lm(reflector, settings.reflection_max_tokens),
        reflection_prompt_template=reflection_templates(settings.components), module_selector=UsedComponents(),
        reflection_minibatch_size=min(settings.minibatch, len(train)), max_metric_calls=settings.budget,
        run_dir=str(out / "gepa"), logger=_GepaLog(out / "gepa" / "run_log.txt", log), seed=settings.seed,
        track_best_outputs=False, display_progress_bar=False,
        cache_evaluation=True)  # a child's minibatch episodes count towards its validation run, not twice
    best = {name: as_template(name, text) for name, text in result.best_candidate.items()}
    changed = [name for name in settings.components if best[name] != seed[name]]
    after = before if not changed else [evaluate(best, m) for m in test]
    log(f"held-out after: {accuracy(after):.2f} ({', '.join(changed) or 'no template changed'})")
    write_teacher_prompts(out, best)
    evolution = PromptEvolution(out=out, before=accuracy(before), after=accuracy(after), heldout=[m.name for m in test],
                                train=[m.name for m in train], improved_templates=changed,
                                metric_calls=int(result.total_metric_calls or 0), candidates=result.num_candidates)
    _write_record(out / "prompts.json", settings, evolution, before, after, result)
    return evolution


class _GepaLog:
    """GEPA's logger: every message in full to `gepa/run_log.txt`, its first line to `log` (stdout stays ours)."""

    def __init__(self, path: Path, log: Callable[[str], None]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.echo = path, log

    def log(self, message: str) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(message.rstrip("\n") + "\n")
        first = (message.strip().splitlines() or [""])[0]
        self.echo(f"gepa: {first[:160]}")


def _write_record(path: Path, settings: PromptSettings, evolution: PromptEvolution, before: list[TaughtRun],
                  after: list[TaughtRun], result: Any) -> None:
    """`prompts.json`: the figures and what they rest on (no ground truth: per-scenario correctness only)."""
    record = {
        "settings": settings.model_dump(),
        "heldout_accuracy": {"before": evolution.before, "after": evolution.after},
        "heldout": {"before": [r.summary() for r in before], "after": [r.summary() for r in after]},
        "train": evolution.train,
        "changed_templates": evolution.improved_templates,
        "gepa": {"metric_calls": evolution.metric_calls, "candidates": evolution.candidates,
                 "best": result.best_idx, "val_scores": list(result.val_aggregate_scores)},
    }
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")

"""`atlas-sre train prompts --teacher SPEC --out DIR`: evolve the LLM teacher's prompts (GEPA), held-out before/after.

The Typer command forwards its options to `train_prompts_cli`, which returns an exit code (0 done, 1
the model server failed, 2 usage error) and prints one line `error: …` on stderr for any user error
(bad spec or split, missing gepa, unreachable server, unknown model). The logic is
`training/prompts_run.py`, imported inside the function so `atlas-sre --help` stays fast.
"""

from __future__ import annotations

import sys
from typing import Any

import typer


def train_prompts(
    teacher: str = typer.Option(..., "--teacher", help="The LLM teacher whose prompts evolve: openai:MODEL@URL "
                                                       "(any OpenAI-compatible server), llamacpp:NAME, hf:..."),
    out: str = typer.Option(..., "--out", help="Output folder: the evolved prompts (packaged file names), "
                                               "prompts.json, GEPA's state (a rerun resumes)."),
    scenarios: list[str] = typer.Option(None, "--scenarios", help="Scenario sets as in `bench`; repeatable. "
                                                                  "Default: core."),
    split: str = typer.Option("0.5", "--split", help="Train:held-out split by scenario: a fraction or counts (6:6)."),
    budget: int = typer.Option(40, "--budget", help="GEPA's budget: guided episodes it may run on the train half."),
    reflection_model: str = typer.Option(None, "--reflection-model", help="Model that rewrites the prompts "
                                                                          "(default: the teacher's own)."),
    student: str = typer.Option("reference:student", "--student", help="The student the episodes use."),
    components: str = typer.Option(None, "--components", help="Comma-separated templates to evolve (default: "
                                                              "all six teacher_* templates)."),
    seed: int = typer.Option(0, "--seed", help="Split and GEPA seed."),
) -> None:
    """Evolve the teacher's probe and correction prompts by reflection on failed episodes (GEPA)."""
    options: dict[str, Any] = {"teacher": teacher, "out": out, "scenarios": scenarios or ["core"], "split": split,
                               "budget": budget, "reflection_model": reflection_model, "student": student,
                               "seed": seed}
    if components:
        options["components"] = [c.strip() for c in components.split(",") if c.strip()]
    raise typer.Exit(train_prompts_cli(**options))


def train_prompts_cli(**options: Any) -> int:
    """Run; print before/after to stdout. Exit 0, 1 (the model failed), or 2 with one line on stderr."""
    from pydantic import ValidationError

    from atlas_sre.models.base import ModelError
    from atlas_sre.training.prompts_run import PromptSettings, evolve_teacher_prompts

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        settings = PromptSettings(**options)
        result = evolve_teacher_prompts(settings, log=log)
    except ValidationError as exc:
        err = exc.errors()[0]
        print(f"error: --{'-'.join(str(p) for p in err['loc']).replace('_', '-')}: {err['msg']}", file=sys.stderr)
        return 2
    except ModelError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    changed = ", ".join(result.improved_templates) or "none (GEPA kept the packaged prompts)"
    print(f"held-out guided accuracy on {len(result.heldout)} scenarios: before {result.before:.3f}, "
          f"after {result.after:.3f} ({result.after - result.before:+.3f})")
    print(f"evolved templates: {changed}; {result.candidates} candidates, {result.metric_calls} episodes")
    print(f"prompts written to {result.out} (use: --teacher-prompts {result.out}); "
          f"record: {result.out / 'prompts.json'}")
    return 0

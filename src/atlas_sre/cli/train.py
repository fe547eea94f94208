"""`atlas-sre train teacher --model M --out DIR`: GRPO on the teacher, rewarded by simulated investigations.

The Typer command only forwards its options to `train_teacher_cli`, which returns an exit code (0
trained, 2 usage error) and prints one line `error: …` on stderr for any user error (unknown model,
missing folder, missing `train` extra, bad settings). Progress goes to stderr; the closing summary
(reward at the first and last step, where the adapter is) to stdout. The logic is the training room
(`atlas_sre/training/`, docs/training.md), imported inside the function so `atlas-sre --help` does
not load it (nor torch).
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from atlas_sre.cli.train_prompts import train_prompts

train_app = typer.Typer(no_args_is_help=True, help="Train agents on the simulator (GRPO).")


@train_app.command("teacher")
def train_teacher(
    model: str = typer.Option(None, "--model", help="Installed GGUF name (atlas-sre models list), a .gguf file, "
                                                    "or a local Hugging Face model folder."),
    out: str = typer.Option(None, "--out", help="Output folder: cached baselines, checkpoints, logs, the adapter."),
    scenarios: list[str] = typer.Option(None, "--scenarios", help="Scenario sets as in `bench` "
                                        "(core, library, builtin, generated:N, folders, names); repeatable. "
                                        "Default: core."),
    split: str = typer.Option(None, "--split", help="Train:test split by scenario: a fraction (0.5), counts "
                                                    "(6:6), or 'all' (no test half). Default 0.5."),
    steps: int = typer.Option(None, "--steps", help="Total optimizer steps (a resumed run continues up to it). "
                                                    "Default 20."),
    student: str = typer.Option(None, "--student", help="The student the guided runs use (default reference:student)."),
    num_generations: int = typer.Option(None, "--num-generations", help="Completions per prompt (default 4)."),
    max_completion_tokens: int = typer.Option(None, "--max-completion-tokens", help="Default 256."),
    lora_r: int = typer.Option(None, "--lora-r", help="LoRA rank (default 8)."),
    learning_rate: float = typer.Option(None, "--learning-rate", help="Default 1e-5."),
    seed: int = typer.Option(None, "--seed", help="Split and sampling seed (default 0)."),
    save_steps: int = typer.Option(None, "--save-steps", help="Checkpoint every N steps (default 5)."),
    config: str = typer.Option(None, "--config", help="YAML settings file (flags given here win), e.g. "
                                                      "bench/training/grpo-gpu.yaml."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint in --out."),
) -> None:
    """GRPO on the teacher: completions are probe + correction, rewards are guided investigations."""
    raise typer.Exit(train_teacher_cli(
        config=config, resume=resume, model=model, out=out, scenarios=scenarios or None, split=split, steps=steps,
        student=student, num_generations=num_generations, max_completion_tokens=max_completion_tokens,
        lora_r=lora_r, learning_rate=learning_rate, seed=seed, save_steps=save_steps))


def train_teacher_cli(*, config: str | None = None, resume: bool = False, **options: Any) -> int:
    """Train; print the summary to stdout. Exit code 0, or 2 with a one-line error on stderr."""
    from atlas_sre.training.dataset import TrainError
    from atlas_sre.training.grpo import train_teacher as run
    from atlas_sre.training.settings import load_settings

    try:
        settings = load_settings(config, options)
        result = run(settings, resume=resume)
    except TrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}".rstrip(": "), file=sys.stderr)
        return 2
    first = "n/a" if result.first_reward is None else f"{result.first_reward:+.3f}"
    last = "n/a" if result.last_reward is None else f"{result.last_reward:+.3f}"
    print(f"trained {result.steps} steps: mean reward {first} at the first step, {last} at the last")
    print(f"adapter saved to {result.adapter} (reward curve: {result.out / 'rewards.jsonl'})")
    return 0


train_app.command("prompts")(train_prompts)  # `atlas-sre train prompts` (GEPA on the teacher's prompts)

"""`train_teacher`: GRPO on the teacher with TRL's `GRPOTrainer`, LoRA adapters (peft), resumable.

One step: for `prompts_per_step` training prompts (incident + the student's plan), the policy writes
`num_generations` completions each; every completion is scored by a guided investigation in the
simulator (`reward.TeachingReward`); GRPO moves the LoRA weights towards the completions that beat
their group's mean. Only the adapters train, so a 0.5B model fits a CPU and the saved result is small
(`OUT/adapter`: 18 MB for the 0.5B at rank 8; `peft.PeftModel.from_pretrained(base, OUT/adapter)` loads it).

The output folder holds everything a run needs to be resumed or read later:

- `baselines.json`, `scenarios/` — the cached untaught runs and the pinned scenarios (dataset.py)
- `checkpoints/checkpoint-N/` — TRL checkpoints (adapter, optimizer, scheduler, RNG, trainer state)
  every `save_steps`; `resume=True` continues from the last one up to `steps` in all
- `rewards.jsonl` — one line per logged step: TRL's metrics (`reward`, `reward_std`, `loss`, …), the
  reward's own terms (`atlas/teaching`, `atlas/format`, …) and `step_s`, the step's wall time
- `completions.jsonl` — every scored completion: its text, reward terms, guided grade, commands run
- `settings.json` — the settings of the last start; `adapter/` — the final LoRA adapter + tokenizer
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_sre.models.base import ModelError
from atlas_sre.protocol.atlas import ATLASInference
from atlas_sre.training.dataset import TrainError, prepare_baselines, prompt_rows
from atlas_sre.training.policy import hf_folder, load_policy, resolve_policy
from atlas_sre.training.reward import TeachingReward
from atlas_sre.training.settings import TrainSettings

Log = Callable[[str], None]
TRAIN_DEPS = ("torch", "transformers", "trl", "peft", "accelerate", "datasets")
INSTALL_HINT = "pip install 'atlas-sre[train]'"
REWARDS_FILE, COMPLETIONS_FILE, CHECKPOINTS, ADAPTER = "rewards.jsonl", "completions.jsonl", "checkpoints", "adapter"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class TrainResult:
    """What a finished run reports: where the adapter is, and the reward curve's two ends."""

    out: Path
    adapter: Path
    steps: int
    first_reward: float | None
    last_reward: float | None
    step_s: list[float]


def check_dependencies(gguf: bool = False) -> None:
    """One line naming what is missing and how to install it (the `train` extra)."""
    missing = [m for m in (*TRAIN_DEPS, *(("gguf",) if gguf else ())) if importlib.util.find_spec(m) is None]
    if missing:
        raise TrainError(f"training needs {', '.join(missing)}: {INSTALL_HINT}")


def last_checkpoint(out: Path) -> Path | None:
    """The newest `checkpoints/checkpoint-N` folder, or None."""
    found = [p for p in (out / CHECKPOINTS).glob("checkpoint-*") if p.is_dir() and p.name[11:].isdigit()]
    return max(found, key=lambda p: int(p.name[11:])) if found else None


def reward_curve(out: Path) -> list[dict[str, Any]]:
    """The training lines of `rewards.jsonl`, one per step (a step logged again after a resume: the last)."""
    path = out / REWARDS_FILE
    if not path.exists():
        return []
    by_step: dict[int, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "reward" in row:
            by_step[int(row["step"])] = row
    return [by_step[s] for s in sorted(by_step)]


def grpo_args(settings: TrainSettings, evaluate: bool) -> dict[str, Any]:
    """`GRPOConfig` keyword arguments: the run's settings, then the file's `grpo:` block on top."""
    completions = settings.num_generations * settings.prompts_per_step
    args: dict[str, Any] = {
        "output_dir": str(settings.out_dir / CHECKPOINTS), "max_steps": settings.steps,
        "learning_rate": settings.learning_rate, "per_device_train_batch_size": completions,
        "num_generations": settings.num_generations, "max_completion_length": settings.max_completion_tokens,
        "temperature": settings.temperature, "logging_steps": 1, "save_strategy": "steps",
        "save_steps": settings.save_steps, "save_total_limit": settings.save_total_limit, "report_to": "none",
        "seed": settings.seed, "bf16": False, "remove_unused_columns": False, "disable_tqdm": True,
        "eval_strategy": "steps" if evaluate else "no", "per_device_eval_batch_size": settings.num_generations,
    }
    if evaluate:
        args["eval_steps"] = settings.eval_steps
    if not _has_cuda():
        args["dataloader_pin_memory"] = False  # nothing to pin to; silences torch's warning
    return {**args, **settings.grpo}


def _has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def lora_config(settings: TrainSettings) -> Any:
    from peft import LoraConfig

    return LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                      target_modules=settings.lora_target_modules, task_type="CAUSAL_LM")


def _callback(out: Path, total: int, log: Log) -> Any:
    """A `TrainerCallback` writing each log to `rewards.jsonl` (with the step's wall time) and a progress line."""
    from transformers import TrainerCallback

    class RewardLog(TrainerCallback):  # type: ignore[misc]
        started = 0.0
        step_s = 0.0

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.started = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.step_s = time.perf_counter() - self.started

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
            if not logs:
                return
            row = {"step": state.global_step, **logs}
            if "reward" in logs:
                row["step_s"] = round(self.step_s, 3)
                log(f"step {state.global_step}/{total}: reward {logs['reward']:+.3f} "
                    f"(std {logs.get('reward_std', 0.0):.3f}), loss {logs.get('loss', 0.0):.4f}, {self.step_s:.1f} s")
            if "eval_reward" in logs:
                log(f"eval at step {state.global_step}: reward {logs['eval_reward']:+.3f} on the held-out scenarios")
            with (out / REWARDS_FILE).open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row, default=float) + "\n")

    return RewardLog()


def build_trainer(settings: TrainSettings, model: Any, tokenizer: Any, reward: TeachingReward,
                  train_rows: list[dict[str, Any]], test_rows: list[dict[str, Any]], log: Log) -> Any:
    """TRL's `GRPOTrainer` with the LoRA config, the reward and our logging (TRL's printers removed:
    progress goes to stderr, stdout stays the summary's)."""
    from datasets import Dataset
    from transformers import PrinterCallback, ProgressCallback
    from trl import GRPOConfig, GRPOTrainer

    evaluate = settings.eval_steps > 0 and bool(test_rows)
    try:
        config = GRPOConfig(**grpo_args(settings, evaluate))
    except (TypeError, ValueError) as exc:
        raise TrainError(f"invalid GRPO settings: {' '.join(str(exc).split())[:300]}") from None
    callback = _callback(settings.out_dir, settings.steps, log)
    trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=config, train_dataset=Dataset.from_list(train_rows),
                          eval_dataset=Dataset.from_list(test_rows) if evaluate else None, processing_class=tokenizer,
                          peft_config=lora_config(settings), callbacks=[callback])
    for printer in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(printer)
    return trainer


def train_teacher(settings: TrainSettings, *, resume: bool = False, log: Log = _stderr) -> TrainResult:
    """Prepare the prompts (cached baselines), build the trainer, train up to `settings.steps`, save the adapter."""
    source = resolve_policy(settings.model)
    check_dependencies(gguf=source.gguf_file is not None)
    try:
        atlas = ATLASInference(settings.student, "reference:teacher")  # the teacher here is never asked
    except (ModelError, ValueError) as exc:
        raise TrainError(f"--student: {exc}") from None
    out = settings.out_dir
    checkpoint = last_checkpoint(out)
    if resume and checkpoint is None:
        raise TrainError(f"nothing to resume in {out}: no checkpoint under {out / CHECKPOINTS}")
    if not resume and checkpoint is not None:
        raise TrainError(f"{out} already has checkpoints: pass --resume to continue, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "settings.json").write_text(settings.model_dump_json(indent=1) + "\n", encoding="utf-8")

    log(f"preparing the prompts: the untaught {settings.student} on {', '.join(settings.scenarios)}")
    baselines = prepare_baselines(atlas, settings.student, settings.scenarios, out, split=settings.split,
                                  seed=settings.seed, log=log)
    train_rows, test_rows = prompt_rows(baselines, "train"), prompt_rows(baselines, "test")
    log(f"{len(train_rows)} training prompts, {len(test_rows)} held out")

    if settings.grpo.get("use_vllm"):
        source = hf_folder(source, out / "base", log)
    log(f"loading {source.label}")
    model, tokenizer = load_policy(source, dtype=None if _has_cuda() else "float32")
    reward = TeachingReward(atlas, {b.scenario: b for b in baselines}, budget=settings.length_budget,
                            log_path=out / COMPLETIONS_FILE)
    with warnings.catch_warnings():
        # TRL's own use of transformers' renamed gradient-checkpointing API: nothing a user can act on
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\.")
        trainer = build_trainer(settings, model, tokenizer, reward, train_rows, test_rows, log)
        trainer.train(resume_from_checkpoint=str(checkpoint) if resume else None)
    adapter = out / ADAPTER
    trainer.save_model(str(adapter))
    tokenizer.save_pretrained(str(adapter))
    curve = reward_curve(out)
    return TrainResult(out=out, adapter=adapter, steps=int(trainer.state.global_step),
                       first_reward=float(curve[0]["reward"]) if curve else None,
                       last_reward=float(curve[-1]["reward"]) if curve else None,
                       step_s=[float(r.get("step_s", 0.0)) for r in curve])

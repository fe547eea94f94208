"""What one `atlas-sre train teacher` run is: the settings, from flags and an optional YAML file.

Why a YAML file: the GPU configuration (vLLM generation, a bigger model, more steps) must run as it
is written on a lent machine, and be reviewable; flags are for the CPU default and for overriding
one value (`--steps 1` is the smoke test of any configuration). Precedence: a flag given on the
command line, then the file, then the defaults below. Unknown keys are an error naming the valid
ones; `grpo:` is passed to TRL's `GRPOConfig` as it is (any of its fields: `use_vllm`, `bf16`, …),
after the fields set here, so the file has the last word on TRL's own options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from atlas_sre.training.dataset import TrainError


class TrainSettings(BaseModel):
    """Everything a run needs; the defaults are the CPU run (a 0.5B model with LoRA, a few steps)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, description="installed GGUF name, a .gguf file, or a local HF folder")
    out: str = Field(min_length=1, description="output folder: baselines, checkpoints, logs, the adapter")
    scenarios: list[str] = Field(default_factory=lambda: ["core"])
    split: str = "0.5"  # train:test by scenario (bench/plan.py): a fraction, counts "6:6", or "all"
    seed: int = 0
    student: str = "reference:student"
    steps: int = Field(default=20, ge=1)  # total optimizer steps (a resumed run continues up to this)
    num_generations: int = Field(default=4, ge=2)
    prompts_per_step: int = Field(default=1, ge=1)
    max_completion_tokens: int = Field(default=256, ge=8)
    temperature: float = Field(default=1.0, gt=0)
    learning_rate: float = Field(default=1e-5, gt=0)
    lora_r: int = Field(default=8, ge=1)
    lora_alpha: int = Field(default=16, ge=1)
    lora_dropout: float = Field(default=0.05, ge=0, lt=1)
    lora_target_modules: str | list[str] = "all-linear"
    save_steps: int = Field(default=5, ge=1)
    save_total_limit: int = Field(default=2, ge=1)
    eval_steps: int = Field(default=0, ge=0)  # 0: no evaluation on the test half during training
    length_budget: int = Field(default=200, ge=1)
    grpo: dict[str, Any] = Field(default_factory=dict)

    @property
    def out_dir(self) -> Path:
        return Path(self.out).expanduser()


def load_settings(config: str | None, overrides: dict[str, Any]) -> TrainSettings:
    """Defaults ← the YAML file (if any) ← the flags that were given (None: not given)."""
    data: dict[str, Any] = {}
    if config:
        path = Path(config).expanduser()
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise TrainError(f"cannot read --config {config}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise TrainError(f"--config {config} is not valid YAML: {' '.join(str(exc).split())}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise TrainError(f"--config {config} must be a mapping of settings")
        data.update(loaded or {})
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return TrainSettings(**data)
    except ValidationError as exc:
        raise TrainError(f"invalid training settings: {_explain(exc)}") from None


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown setting '{where}' (valid: {', '.join(TrainSettings.model_fields)})")
        elif err["type"] == "missing":
            parts.append(f"'{where}' is required (--{where.replace('_', '-')} or in --config)")
        else:
            parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)

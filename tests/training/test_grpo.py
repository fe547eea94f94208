"""`atlas-sre train teacher`, end to end on a tiny model built here: one real GRPO step (TRL, LoRA via
peft, on CPU) whose rewards come from guided investigations in the simulator with the reference
student; the adapter is saved, the checkpoint is resumed by `--resume`; errors are one line."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tiny_lm import build_tiny_model  # a module, not a conftest.py: see its docstring

from atlas_sre.cli.train import train_teacher_cli

SCENARIOS = ["service-no-endpoints", "mesh-subset-missing"]
needs_train = pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in ("trl", "peft", "datasets")),
                                 reason="the train extra is not installed")
needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl missing")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-teacher"))


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def options(model: Path, out: Path, steps: int) -> dict[str, Any]:
    return {"model": str(model), "out": str(out), "scenarios": SCENARIOS, "split": "0.5", "steps": steps,
            "num_generations": 2, "max_completion_tokens": 12, "save_steps": 1}


@pytest.mark.kubectl
@needs_kubectl
@needs_train
def test_one_grpo_step_then_resume(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert train_teacher_cli(**options(tiny_model, out, steps=1)) == 0
    said = capsys.readouterr()
    assert "trained 1 steps: mean reward" in said.out and f"adapter saved to {out / 'adapter'}" in said.out
    assert "step 1/1: reward" in said.err

    # the LoRA adapter, and a full checkpoint to resume from
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    assert json.loads((out / "adapter" / "adapter_config.json").read_text())["peft_type"] == "LORA"
    assert (out / "checkpoints" / "checkpoint-1" / "optimizer.pt").is_file()

    # the step's rewards are the guided investigations' rewards: one per completion, real commands run
    baselines = json.loads((out / "baselines.json").read_text())["baselines"]
    train = [b["scenario"] for b in baselines if b["split"] == "train"]
    scored = lines(out / "completions.jsonl")
    assert len(train) == 1 and len(scored) == 2
    assert all(s["step"] == 1 and s["scenario"] == train[0] and s["outcome"] == "submitted" for s in scored)
    assert all(any(c.startswith("kubectl ") for c in s["commands"]) for s in scored)
    assert all(s["baseline_tokens"] > 0 and s["guided_tokens"] > 0 and s["completion_tokens"] <= 12 for s in scored)
    step1 = [r for r in lines(out / "rewards.jsonl") if "reward" in r]
    assert [r["step"] for r in step1] == [1]
    assert step1[0]["reward"] == pytest.approx(sum(s["reward"] for s in scored) / 2, abs=1e-5)
    assert step1[0]["step_s"] > 0

    # a second start without --resume refuses to overwrite; --resume continues from checkpoint-1
    assert train_teacher_cli(**options(tiny_model, out, steps=2)) == 2
    assert "already has checkpoints: pass --resume" in capsys.readouterr().err
    stamp = (out / "baselines.json").stat().st_mtime_ns
    assert train_teacher_cli(resume=True, **options(tiny_model, out, steps=2)) == 0
    assert "trained 2 steps" in capsys.readouterr().out
    state = json.loads((out / "checkpoints" / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    assert [h["step"] for h in state["log_history"] if "reward" in h] == [1, 2]  # step 1 came from the checkpoint
    assert [s["step"] for s in lines(out / "completions.jsonl")] == [1, 1, 2, 2]  # step 1 was not run again
    assert (out / "baselines.json").stat().st_mtime_ns == stamp  # cached baselines read back, not re-run


def test_unknown_model_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_teacher_cli(model="nope-7b", out=str(tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown model 'nope-7b': give an installed GGUF (qwen2.5-coder-0.5b")
    assert err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_missing_folder_and_non_model_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_teacher_cli(model=str(tmp_path / "missing"), out=str(tmp_path / "o")) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing'}: no such file or folder\n"
    assert train_teacher_cli(model=str(tmp_path), out=str(tmp_path / "o")) == 2
    assert "is not a Hugging Face model folder (no config.json)" in capsys.readouterr().err


def test_settings_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_teacher_cli(out=str(tmp_path / "o")) == 2
    assert "'model' is required (--model or in --config)" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: x\nout: y\nstepz: 3\n")
    assert train_teacher_cli(config=str(bad)) == 2
    assert "unknown setting 'stepz'" in capsys.readouterr().err
    assert train_teacher_cli(config=str(tmp_path / "none.yaml")) == 2
    assert "cannot read --config" in capsys.readouterr().err


def test_resume_without_checkpoint_and_bad_student(tiny_model: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert train_teacher_cli(resume=True, model=str(tiny_model), out=str(tmp_path / "o")) == 2
    assert "nothing to resume in" in capsys.readouterr().err
    assert train_teacher_cli(model=str(tiny_model), out=str(tmp_path / "o"), student="reference:teacher") == 2
    assert capsys.readouterr().err.startswith("error: --student: reference:teacher cannot play the student")


def test_missing_training_extra(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "trl" else real(name, *a))
    assert train_teacher_cli(model=str(tiny_model), out=str(tmp_path / "o")) == 2
    assert capsys.readouterr().err == "error: training needs trl: pip install 'atlas-sre[train]'\n"


@needs_train
def test_gpu_configuration_is_valid_and_flags_win(tmp_path: Path) -> None:
    """The documented GPU file loads, every `grpo:` key is a real `GRPOConfig` field, `--steps 1` overrides it."""
    import dataclasses

    from trl import GRPOConfig

    from atlas_sre.training.grpo import grpo_args
    from atlas_sre.training.settings import load_settings

    path = Path(__file__).parents[2] / "bench" / "training" / "grpo-gpu.yaml"
    settings = load_settings(str(path), {"steps": 1, "out": str(tmp_path)})
    assert settings.steps == 1 and settings.out == str(tmp_path) and settings.scenarios == ["builtin"]
    assert settings.grpo["use_vllm"] is True and settings.grpo["vllm_mode"] == "colocate"
    fields = {f.name for f in dataclasses.fields(GRPOConfig)}
    args = grpo_args(settings, evaluate=True)
    assert set(args) <= fields, set(args) - fields
    assert args["per_device_train_batch_size"] == settings.num_generations * settings.prompts_per_step
    assert args["max_steps"] == 1 and args["use_vllm"] is True and args["eval_steps"] == settings.eval_steps

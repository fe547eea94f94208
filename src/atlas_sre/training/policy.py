"""The policy to train: a base model and its tokenizer from an installed GGUF, a .gguf file or a local HF folder.

Why GGUF too: no model hub is reachable where this project runs, but `atlas-sre models install`
puts GGUF files on disk, and transformers reads a GGUF checkpoint (`from_pretrained(folder,
gguf_file=...)`, with the `gguf` package), dequantising it to full-precision weights that LoRA can
train. A local HF folder (config.json + weights) is the other way in, e.g. a bigger model copied
onto a GPU machine. Nothing is ever downloaded: an unknown name is a one-line error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_sre.models.base import ModelError
from atlas_sre.models.catalog import CATALOG
from atlas_sre.models.install import installed_model_path
from atlas_sre.training.dataset import TrainError


@dataclass(frozen=True)
class PolicySource:
    """Where the weights are: a folder, and the GGUF file in it when it is one."""

    folder: Path
    gguf_file: str | None = None

    @property
    def label(self) -> str:
        return str(self.folder / self.gguf_file) if self.gguf_file else str(self.folder)

    def kwargs(self) -> dict[str, Any]:
        """`from_pretrained` keywords. A GGUF is unpacked into plain dense weights (`dequantize=True`):
        left in GGUF blocks, or merely marked as GGUF-quantised, the Trainer refuses to train it."""
        if not self.gguf_file:
            return {}
        from transformers import GgufConfig

        return {"gguf_file": self.gguf_file, "quantization_config": GgufConfig(gguf_file=self.gguf_file,
                                                                               dequantize=True)}


def resolve_policy(model: str) -> PolicySource:
    """An installed catalogue name, a `.gguf` file, or a folder with `config.json`; else a one-line error."""
    path = Path(model).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return PolicySource(path.parent, path.name)
    if path.is_dir():
        if (path / "config.json").is_file():
            return PolicySource(path)
        raise TrainError(f"{model} is not a Hugging Face model folder (no config.json)")
    if model in CATALOG:
        try:
            found = installed_model_path(model)
        except ModelError as exc:
            raise TrainError(str(exc)) from None
        return PolicySource(found.parent, found.name)
    if path.suffix == ".gguf" or "/" in model or model.startswith("."):
        raise TrainError(f"{model}: no such file or folder")
    raise TrainError(f"unknown model '{model}': give an installed GGUF ({', '.join(sorted(CATALOG))}), "
                     "a .gguf file, or a local Hugging Face model folder")


def load_policy(source: PolicySource, *, dtype: Any = None) -> tuple[Any, Any]:
    """(model, tokenizer) from `source`; the tokenizer gets a pad token and must have a chat template."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source.folder, **({"gguf_file": source.gguf_file}
                                                                    if source.gguf_file else {}))
        model = AutoModelForCausalLM.from_pretrained(source.folder, dtype=dtype or "auto", **source.kwargs())
    except (OSError, ValueError) as exc:
        raise TrainError(f"cannot load {source.label}: {' '.join(str(exc).split())[:300]}") from None
    if not getattr(tokenizer, "chat_template", None):
        raise TrainError(f"{source.label} has no chat template: the teacher's prompt is a chat")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def hf_folder(source: PolicySource, target: Path, log: Callable[[str], None] | None = None) -> PolicySource:
    """`source` as a Hugging Face folder: a GGUF is dequantised once into `target` (bf16 safetensors + tokenizer).

    Why: TRL's vLLM generation (`use_vllm`) starts vLLM on the policy's `name_or_path`, which for a GGUF
    loaded by transformers is the folder holding the .gguf — not a model vLLM can read. A folder is kept
    as it is; `target` is reused when it already holds a model.
    """
    if source.gguf_file is None:
        return source
    if not (target / "config.json").is_file():
        import torch

        if log:
            log(f"converting {source.label} into {target} (vLLM reads Hugging Face folders)")
        model, tokenizer = load_policy(source, dtype=torch.bfloat16)
        model.save_pretrained(target)
        tokenizer.save_pretrained(target)
    return PolicySource(target)

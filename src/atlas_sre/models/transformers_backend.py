"""A local Hugging Face `transformers` model (`hf:/path/or/name`), or one the caller already loaded.

The seed loads models with `AutoModelForCausalLM.from_pretrained` and hands the object over, so a
loaded `(model, tokenizer)` pair (or a bare model whose tokenizer can be found from its
`name_or_path`) is accepted as is. `transformers` and `torch` are an optional extra imported only
here and only when needed, so the core package stays light. Loading is lazy: constructing the
backend costs nothing until the first `complete`. Decoding is greedy for reproducible runs.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atlas_sre.models.base import Backend, Completion, Message, ToolsUnsupported
from atlas_sre.models.text import apply_stop, check_messages, model_error

INSTALL_HINT = "install atlas-sre[hf] (pip install 'atlas-sre[hf]', which brings transformers and torch)"


class TransformersConfig(BaseModel):
    """Where the weights are and how to run them."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, description="local directory or hub name of a causal LM")
    device: str = "auto"  # auto → cuda if available, else mps, else cpu
    dtype: str = "auto"
    trust_remote_code: bool = False


def _import(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError as exc:
        raise model_error(f"the hf: backend needs '{name}': {INSTALL_HINT}") from exc


def _optional_torch() -> Any | None:
    try:
        import torch
    except ImportError:
        return None
    return torch


def pick_device(requested: str, torch: Any | None) -> str:
    """`auto` means the fastest device present; an explicit choice is respected as given."""
    if requested != "auto":
        return requested
    if torch is None:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


class TransformersChatModel:
    """A `ChatModel` over a causal LM and its tokenizer's chat template."""

    def __init__(
        self, config: TransformersConfig | None = None, *, model: Any = None, tokenizer: Any = None
    ) -> None:
        if config is None and model is None:
            raise model_error("the hf: backend needs a path (hf:/path/or/name) or a loaded model")
        self.config = config or TransformersConfig(path=_name_of(model) or "in-memory")
        self.name = f"hf:{self.config.path}"
        self._model = model
        self._tokenizer = tokenizer
        self._device: str | None = None

    @classmethod
    def from_loaded(cls, model: Any, tokenizer: Any = None) -> TransformersChatModel:
        """Wrap a model the caller already loaded (the seed's way); the tokenizer is found if not given."""
        if not callable(getattr(model, "generate", None)):
            raise model_error(f"{type(model).__name__} has no generate(): pass a transformers causal LM")
        return cls(model=model, tokenizer=tokenizer)

    def complete(
        self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None,
        tools: list[dict[str, Any]] | None = None, tool_choice: str | dict[str, Any] | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> Completion:
        """Greedy generation of at most `max_tokens` new tokens; usage counted by the tokenizer itself.

        Unconstrained only: `tools` or `json_schema` raise `ToolsUnsupported` (no grammar sampler here).
        """
        check_messages(messages, max_tokens)
        if tools or json_schema is not None:
            raise ToolsUnsupported(f"{self.name} cannot offer native tool calls or constrain replies to a "
                                   "JSON schema; use --tool-mode text")
        model, tokenizer = self._load()
        started = time.perf_counter()
        prompt_ids = self._encode(tokenizer, messages)
        new_ids = self._generate(model, tokenizer, prompt_ids, max_tokens)
        text = tokenizer.decode(new_ids, skip_special_tokens=True)
        text, stopped = apply_stop(text, stop)
        finish = "stop" if stopped or len(new_ids) < max_tokens else "length"
        return Completion(
            text=text.strip(),
            prompt_tokens=len(prompt_ids),
            completion_tokens=len(new_ids),
            latency_s=time.perf_counter() - started,
            model=self.name,
            finish_reason=finish,
            raw={"device": self._device, "usage_estimated": False},
        )

    def _load(self) -> tuple[Any, Any]:
        """Import and load on first use, so that building the object (and every test) stays cheap."""
        torch = _optional_torch()
        if self._model is None:
            transformers = _import("transformers")
            torch = _import("torch")
            self._device = pick_device(self.config.device, torch)
            try:
                self._model = transformers.AutoModelForCausalLM.from_pretrained(
                    self.config.path,
                    torch_dtype=self.config.dtype,
                    trust_remote_code=self.config.trust_remote_code,
                ).to(self._device)
            except OSError as exc:
                raise model_error(f"cannot load hf model '{self.config.path}': {exc}") from exc
            self._model.eval()
        if self._tokenizer is None:
            source = self.config.path if self.config.path != "in-memory" else None
            if source is None:
                raise model_error("cannot find a tokenizer for this model: pass (model, tokenizer) instead")
            transformers = _import("transformers")
            try:
                self._tokenizer = transformers.AutoTokenizer.from_pretrained(source)
            except OSError as exc:
                raise model_error(f"cannot load the tokenizer of '{source}': {exc}") from exc
        if self._device is None:
            self._device = str(getattr(self._model, "device", None) or pick_device(self.config.device, torch))
        return self._model, self._tokenizer

    @staticmethod
    def _encode(tokenizer: Any, messages: list[Message]) -> list[int]:
        """The model's own chat template when it has one; a plain role-tagged transcript otherwise."""
        if getattr(tokenizer, "chat_template", None):
            ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
            if isinstance(ids, dict) or hasattr(ids, "input_ids"):  # some versions return a BatchEncoding
                ids = ids["input_ids"]
        else:
            transcript = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"
            ids = tokenizer.encode(transcript)
        return [int(i) for i in _flat(ids)]

    def _generate(self, model: Any, tokenizer: Any, prompt_ids: list[int], max_tokens: int) -> list[int]:
        torch = _optional_torch()
        pad = getattr(tokenizer, "pad_token_id", None)
        if pad is None:
            pad = getattr(tokenizer, "eos_token_id", None)
        kwargs: dict[str, Any] = {"max_new_tokens": max_tokens, "do_sample": False, "pad_token_id": pad}
        if torch is not None:
            inputs = torch.tensor([prompt_ids], device=self._device)
            with torch.no_grad():
                out = model.generate(input_ids=inputs, attention_mask=torch.ones_like(inputs), **kwargs)
        else:  # only duck-typed test models reach this: real ones need torch
            out = model.generate(input_ids=[prompt_ids], **kwargs)
        generated = [int(i) for i in _flat(out[0])][len(prompt_ids) :]
        special = {i for i in (getattr(tokenizer, "eos_token_id", None), pad) if i is not None}
        while generated and generated[-1] in special:  # padding/EOS is framing, not answer
            generated.pop()
        return generated[:max_tokens]


def _flat(ids: Any) -> list[Any]:
    """Tensors, nested lists or a single batch row → one flat list of ids."""
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    if ids and isinstance(ids[0], list):
        ids = ids[0]
    return list(ids)


def _name_of(model: Any) -> str | None:
    """Where a loaded model came from, so its tokenizer can be found and traces can name it."""
    value = getattr(model, "name_or_path", None)
    if isinstance(value, str) and value:
        return value
    config = getattr(model, "config", None)
    value = getattr(config, "_name_or_path", None)
    return value if isinstance(value, str) and value else None


BACKEND = Backend("hf", TransformersConfig, lambda rest: {"path": rest}, TransformersChatModel, "hf:/path/or/name")

"""A GGUF model run in-process by `llama-cpp-python` (`llamacpp:/path/model.gguf` or an installed name).

No server to start, no port to pick: the model lives in this process and keeps its KV cache between
calls, so an agent whose conversation only grows re-uses the evaluated prompt prefix instead of
paying for it again (on 2 CPU cores prompt evaluation is the dominant cost). `llama-cpp-python` is
the optional extra `llm`, imported only when a model is first used.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atlas_sre.models.base import Backend, Completion, ContextExceeded, Message, ModelError, ToolsUnsupported
from atlas_sre.models.catalog import CATALOG
from atlas_sre.models.install import installed_model_path
from atlas_sre.models.text import check_messages, model_error, one_line

INSTALL_HINT = "install atlas-sre[llm] (pip install 'atlas-sre[llm]', which builds llama-cpp-python)"


class LlamaCppConfig(BaseModel):
    """A GGUF file and how to run it. `n_threads=None` means half the logical CPUs (llama.cpp's own
    default: the physical cores on SMT machines); see docs/models.md for why not all of them."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)
    n_ctx: int = Field(default=4096, ge=256)
    n_threads: int | None = Field(default=None, ge=1)
    n_batch: int = Field(default=512, ge=1)
    n_gpu_layers: int = 0
    chat_format: str | None = None  # None: the template stored in the GGUF
    temperature: float = 0.0
    seed: int = 0


class LlamaCppChatModel:
    """A `ChatModel` over `llama_cpp.Llama.create_chat_completion`."""

    def __init__(self, config: LlamaCppConfig) -> None:
        self.config = config
        self.name = f"llamacpp:{Path(config.path).stem}"
        self._llama: Any = None

    def complete(
        self, messages: list[Message], *, max_tokens: int, stop: list[str] | None = None,
        tools: list[dict[str, Any]] | None = None, tool_choice: str | dict[str, Any] | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> Completion:
        """One chat completion; usage is llama.cpp's own token count.

        `json_schema` becomes a grammar (llama.cpp's `response_format` `json_object` + `schema`), so
        every sampled token keeps the reply valid. Native `tools` are refused: the in-process chat
        handlers either ignore them or drop tool results from the prompt (use `json_schema` instead).
        """
        check_messages(messages, max_tokens)
        if tools:
            raise ToolsUnsupported(f"{self.name} does not offer native tool calls in-process; "
                                   "use --tool-mode text or constrained")
        llama = self._load()
        extra: dict[str, Any] = {}
        if json_schema is not None:
            extra["response_format"] = {"type": "json_object", "schema": json_schema}
        started = time.perf_counter()
        try:
            out = llama.create_chat_completion(
                messages=messages,
                max_tokens=max_tokens,
                stop=list(stop) if stop else [],
                temperature=self.config.temperature,
                seed=self.config.seed,
                **extra,
            )
        except ValueError as exc:  # llama.cpp reports an over-long prompt this way
            error = ContextExceeded if "context window" in str(exc) else ModelError
            raise error(one_line(f"{self.name} rejected the request: {exc}")) from exc
        latency = time.perf_counter() - started
        try:
            choice = out["choices"][0]
            usage = out["usage"]
            text = choice["message"].get("content") or ""
            prompt, completion = int(usage["prompt_tokens"]), int(usage["completion_tokens"])
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise model_error(f"{self.name} returned an unexpected completion: {str(out)[:120]!r}") from exc
        return Completion(
            text=text,
            prompt_tokens=prompt,
            completion_tokens=completion,
            latency_s=latency,
            model=self.name,
            finish_reason=str(choice.get("finish_reason") or "stop"),
            raw={
                "id": out.get("id"),
                "usage": dict(usage),
                "usage_estimated": False,
                "path": self.config.path,
            },
        )

    def _load(self) -> Any:
        """Load the weights on first use; file and import problems become one-line errors."""
        if self._llama is not None:
            return self._llama
        try:
            import llama_cpp
        except ImportError as exc:
            raise model_error(f"the llamacpp: backend needs llama-cpp-python: {INSTALL_HINT}") from exc
        path = Path(self.config.path).expanduser()
        if not path.is_file():
            raise model_error(f"GGUF model file not found: {path}")
        cfg = self.config
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=cfg.n_ctx,
                n_threads=cfg.n_threads or default_threads(),
                n_batch=cfg.n_batch,
                n_gpu_layers=cfg.n_gpu_layers,
                chat_format=cfg.chat_format,
                seed=cfg.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise model_error(f"llama.cpp could not load {path}: {exc}") from exc
        return self._llama


def default_threads() -> int:
    """Half the logical CPUs, as llama.cpp's server does. Its threads spin on barriers, so when another
    process takes a core, using every CPU collapses generation speed (measured here: 2 threads on
    2 busy cores fell from 43 to 3-19 tokens/s, while 1 thread held 30)."""
    return max((os.cpu_count() or 2) // 2, 1)


def _spec_fields(rest: str) -> dict[str, Any]:
    """A path (has a slash or ends in .gguf) or the name of an installed catalogue model."""
    if "/" in rest or "\\" in rest or rest.endswith(".gguf") or rest.startswith("~"):
        return {"path": str(Path(rest).expanduser())}
    if rest not in CATALOG:
        raise model_error(
            f"'llamacpp:{rest}' is neither a .gguf path nor an installable model "
            f"({', '.join(sorted(CATALOG))})"
        )
    return {"path": str(installed_model_path(rest))}


BACKEND = Backend(
    "llamacpp", LlamaCppConfig, _spec_fields, LlamaCppChatModel, "llamacpp:/path/model.gguf",
    listed=("llamacpp:/path/model.gguf",),
)

"""Model spec strings → configured backends, through one registry of schemes.

Everything that accepts a model (CLI flags, `ATLASInference(student_model=...)`) goes through
`load_model`, so a spec string, a ready `ChatModel`, or a loaded `transformers` model (+ tokenizer,
as in the seed) all work everywhere. Each scheme has one pydantic config; options passed as keyword
arguments are validated against it and an unknown option or scheme is a one-line error that lists
what is valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from atlas_sre.models.base import ChatModel
from atlas_sre.models.catalog import CATALOG
from atlas_sre.models.llamacpp_backend import LlamaCppChatModel, LlamaCppConfig
from atlas_sre.models.openai_http import OpenAIChatModel, OpenAIConfig
from atlas_sre.models.reference import ROLES, ReferenceConfig, ReferenceModel
from atlas_sre.models.text import model_error
from atlas_sre.models.transformers_backend import TransformersChatModel, TransformersConfig

_AT_URL = re.compile(r"^(?P<model>.+?)@(?P<url>https?://\S+)$")


@dataclass(frozen=True)
class Backend:
    """One scheme: its config, how the text after `scheme:` fills it, and how to build the model."""

    scheme: str
    config: type[BaseModel]
    fields: Callable[[str], dict[str, Any]]
    build: Callable[[Any], ChatModel]
    example: str


def _openai_fields(rest: str) -> dict[str, Any]:
    match = _AT_URL.match(rest)
    if match:
        return {"model": match["model"], "base_url": match["url"]}
    if "@" in rest:
        raise model_error(f"'openai:{rest}': the part after @ must be a URL such as http://127.0.0.1:8000/v1")
    return {"model": rest}


def _llamacpp_fields(rest: str) -> dict[str, Any]:
    """A path (has a slash or ends in .gguf) or the name of an installed catalogue model."""
    if "/" in rest or "\\" in rest or rest.endswith(".gguf") or rest.startswith("~"):
        return {"path": str(Path(rest).expanduser())}
    if rest not in CATALOG:
        raise model_error(
            f"'llamacpp:{rest}' is neither a .gguf path nor an installable model "
            f"({', '.join(sorted(CATALOG))})"
        )
    from atlas_sre.models.install import installed_model_path

    return {"path": str(installed_model_path(rest))}


def _reference_fields(rest: str) -> dict[str, Any]:
    if rest not in ROLES:
        raise model_error(f"unknown reference role in 'reference:{rest}': valid roles are {', '.join(ROLES)}")
    return {"role": rest}


BACKENDS: dict[str, Backend] = {
    b.scheme: b
    for b in (
        Backend("openai", OpenAIConfig, _openai_fields, OpenAIChatModel, "openai:gpt-4o-mini"),
        Backend(
            "hf", TransformersConfig, lambda rest: {"path": rest}, TransformersChatModel, "hf:/path/or/name"
        ),
        Backend("llamacpp", LlamaCppConfig, _llamacpp_fields, LlamaCppChatModel, "llamacpp:/path/model.gguf"),
        Backend(
            "reference",
            ReferenceConfig,
            _reference_fields,
            lambda c: ReferenceModel(c.role),
            "reference:student",
        ),
    )
}
EXAMPLES = (
    "openai:gpt-4o-mini",
    "openai:MODEL@http://host:port/v1",
    "llamacpp:/path/model.gguf",
    "reference:student",
)


def backend(scheme: str) -> Backend:
    """The registry entry for `scheme`, or an error listing the valid schemes."""
    found = BACKENDS.get(scheme)
    if found is None:
        raise model_error(f"unknown model scheme '{scheme}:': {_valid()}")
    return found


def _valid() -> str:
    schemes = ", ".join(f"{s}:" for s in BACKENDS)
    return f"valid schemes are {schemes} (e.g. {', '.join(EXAMPLES)})"


def parse_spec(spec: str, **options: Any) -> tuple[Backend, BaseModel]:
    """Validate a spec string (and options) into its backend and config, building nothing."""
    scheme, sep, rest = spec.strip().partition(":")
    if not sep or scheme not in BACKENDS:
        raise model_error(f"unknown model spec '{spec}': {_valid()}")
    found = BACKENDS[scheme]
    rest = rest.strip()
    if not rest:
        raise model_error(f"model spec '{spec}' names no model: e.g. {found.example}")
    fields = {**found.fields(rest), **options}
    try:
        return found, found.config(**fields)
    except ValidationError as exc:
        raise model_error(f"invalid options for '{spec}': {_explain(exc, found.config)}") from exc


def _explain(exc: ValidationError, config: type[BaseModel]) -> str:
    """Pydantic's multi-line report as one line, naming the valid options when one is unknown."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "config"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown option '{where}' (valid: {', '.join(config.model_fields)})")
        else:
            parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def load_model(spec: Any, *, tokenizer: Any = None, **options: Any) -> ChatModel:
    """A `ChatModel` from a spec string, a ready model, a `(model, tokenizer)` pair or a loaded HF model."""
    if isinstance(spec, str):
        found, config = parse_spec(spec, **options)
        return found.build(config)
    if options:
        raise model_error(
            f"options {sorted(options)} apply only to spec strings, not to a {type(spec).__name__}"
        )
    if isinstance(spec, tuple) and len(spec) == 2:
        return TransformersChatModel.from_loaded(spec[0], spec[1])
    if isinstance(spec, ChatModel):
        return spec
    if callable(getattr(spec, "generate", None)):
        return TransformersChatModel.from_loaded(spec, tokenizer)
    raise model_error(
        f"cannot use a {type(spec).__name__} as a model: pass a spec string ({_valid()}), a ChatModel, "
        f"or a transformers model with its tokenizer"
    )

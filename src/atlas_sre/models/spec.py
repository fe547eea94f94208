"""Model spec strings → configured backends, through one registry of schemes.

Everything that accepts a model (CLI flags, `ATLASInference(student_model=...)`) goes through
`load_model`, so a spec string, a ready `ChatModel`, or a loaded `transformers` model (+ tokenizer,
as in the seed) all work everywhere. Each scheme has one pydantic config; options passed as keyword
arguments are validated against it and an unknown option or scheme is a one-line error that lists
what is valid.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from atlas_sre.models.base import Backend, ChatModel
from atlas_sre.models.llamacpp_backend import BACKEND as LLAMACPP
from atlas_sre.models.openai_http import BACKEND as OPENAI
from atlas_sre.models.text import model_error
from atlas_sre.models.transformers_backend import BACKEND as HF
from atlas_sre.models.transformers_backend import TransformersChatModel

# The registry, in the order errors list schemes. A backend module declares `BACKEND = Backend(...)`
# beside its model class; registering it is its import above and its name here.
BACKENDS: dict[str, Backend] = {b.scheme: b for b in (OPENAI, HF, LLAMACPP)}
EXAMPLES = tuple(example for b in BACKENDS.values() for example in b.listed)


def backend(scheme: str) -> Backend:
    """The registry entry for `scheme`, or an error listing the valid schemes."""
    found = BACKENDS.get(scheme)
    if found is None:
        raise model_error(f"unknown model scheme '{scheme}:': {_valid()}")
    return found


def valid_schemes(extra: dict[str, str] | None = None) -> str:
    """`valid schemes are openai:, ... (e.g. ...)`; `extra` adds schemes a caller above this room
    resolves itself (`{"reference": "reference:student"}` for the agents' built-in roles)."""
    schemes = ", ".join(f"{s}:" for s in [*BACKENDS, *(extra or {})])
    return f"valid schemes are {schemes} (e.g. {', '.join([*EXAMPLES, *(extra or {}).values()])})"


def _valid() -> str:
    return valid_schemes()


def parse_spec(spec: str, **options: Any) -> tuple[Backend, BaseModel]:
    """Validate a spec string (and options) into its backend and config, building nothing."""
    scheme, sep, rest = spec.strip().partition(":")
    if not sep or scheme not in BACKENDS:
        raise model_error(f"unknown model spec '{spec}': {_valid()}")
    found = BACKENDS[scheme]
    rest, query = split_options(rest.strip())
    if not rest:
        raise model_error(f"model spec '{spec}' names no model: e.g. {found.example}")
    fields = {**found.fields(rest), **query, **options}
    try:
        return found, found.config(**fields)
    except ValidationError as exc:
        raise model_error(f"invalid options for '{spec}': {_explain(exc, found.config)}") from exc


def split_options(rest: str) -> tuple[str, dict[str, str]]:
    """`model?n_ctx=8192&n_threads=2` → (`model`, options): backend options where only a string
    travels (`--student` on the CLI, a bench config). Values are validated by the backend's config
    like keyword options; keyword options win over the spec's."""
    head, sep, query = rest.rpartition("?")
    if not sep or "=" not in query:
        return rest, {}
    pairs = [p for p in query.split("&") if p]
    bad = [p for p in pairs if "=" not in p or not p.split("=", 1)[0]]
    if bad:
        raise model_error(f"model options must be key=value pairs joined by '&', got {bad[0]!r}")
    return head.strip(), {k.strip(): v.strip() for k, v in (p.split("=", 1) for p in pairs)}


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

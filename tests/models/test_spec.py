"""Spec strings → backends, and the one-line errors that list what is valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_sre.models import (
    LlamaCppChatModel,
    ModelError,
    OpenAIChatModel,
    ScriptedModel,
    TransformersChatModel,
    load_model,
    parse_spec,
    valid_schemes,
)

VALID = (
    "valid schemes are openai:, hf:, llamacpp: (e.g. openai:gpt-4o-mini, "
    "openai:MODEL@http://host:port/v1, llamacpp:/path/model.gguf)"
)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("OPENAI_API_KEY", "ATLAS_SRE_API_KEY", "OPENAI_BASE_URL", "ATLAS_SRE_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ATLAS_SRE_MODELS", str(tmp_path / "models"))


def test_openai_spec_with_url() -> None:
    model = load_model("openai:qwen@http://127.0.0.1:8000/v1")
    assert isinstance(model, OpenAIChatModel)
    assert model.name == "openai:qwen" and model.base_url == "http://127.0.0.1:8000/v1"
    assert model.config.model == "qwen"


def test_openai_spec_uses_env_and_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    model = load_model("openai:gpt-4o-mini", timeout_s=5, max_retries=1)
    assert isinstance(model, OpenAIChatModel)
    assert (model.base_url, model.config.timeout_s, model.config.max_retries) == (
        "https://api.openai.com/v1",
        5,
        1,
    )


def test_openai_model_names_may_contain_slashes_and_colons() -> None:
    _, cfg = parse_spec("openai:Qwen/Qwen2.5-Coder-1.5B:q4@https://llm.internal:8443/v1")
    assert cfg.model_dump()["model"] == "Qwen/Qwen2.5-Coder-1.5B:q4"
    assert cfg.model_dump()["base_url"] == "https://llm.internal:8443/v1"


def test_openai_at_without_url_is_explained() -> None:
    with pytest.raises(ModelError) as info:
        parse_spec("openai:qwen@localhost:8000")
    assert str(info.value) == (
        "'openai:qwen@localhost:8000': the part after @ must be a URL such as http://127.0.0.1:8000/v1"
    )


@pytest.mark.parametrize("spec", ["foo:bar", "gpt-4o-mini", "", "OpenAI:gpt-4o"])
def test_unknown_scheme_lists_valid_schemes(spec: str) -> None:
    with pytest.raises(ModelError) as info:
        load_model(spec)
    assert str(info.value) == f"unknown model spec '{spec}': {VALID}"


def test_empty_model_name() -> None:
    with pytest.raises(ModelError) as info:
        load_model("openai:")
    assert str(info.value) == "model spec 'openai:' names no model: e.g. openai:gpt-4o-mini"


def test_unknown_option_lists_valid_options() -> None:
    with pytest.raises(ModelError) as info:
        load_model("openai:m@http://127.0.0.1:1/v1", temprature=0.3)
    text = str(info.value)
    assert text.startswith(
        "invalid options for 'openai:m@http://127.0.0.1:1/v1': unknown option 'temprature'"
    )
    assert "(valid: model, base_url, api_key, timeout_s, max_retries" in text and "\n" not in text


def test_bad_option_value_is_one_line() -> None:
    with pytest.raises(ModelError) as info:
        load_model("openai:m@http://127.0.0.1:1/v1", max_retries=-1)
    assert str(info.value) == (
        "invalid options for 'openai:m@http://127.0.0.1:1/v1': "
        "max_retries: Input should be greater than or equal to 0"
    )


def test_reference_is_not_a_model_scheme() -> None:
    """`reference:` names the built-in agents, resolved by the agents room (tests/agents/test_factory.py)."""
    with pytest.raises(ModelError) as info:
        load_model("reference:teacher")
    assert str(info.value) == f"unknown model spec 'reference:teacher': {VALID}"
    assert valid_schemes({"reference": "reference:student"}) == (
        "valid schemes are openai:, hf:, llamacpp:, reference: (e.g. openai:gpt-4o-mini, "
        "openai:MODEL@http://host:port/v1, llamacpp:/path/model.gguf, reference:student)"
    )


def test_hf_spec_is_lazy() -> None:
    model = load_model("hf:/models/qwen-0.5b", device="cpu")
    assert isinstance(model, TransformersChatModel)
    assert model.name == "hf:/models/qwen-0.5b" and model.config.device == "cpu"


def test_llamacpp_path_spec(tmp_path: Path) -> None:
    model = load_model(f"llamacpp:{tmp_path}/m.gguf", n_ctx=1024, n_threads=1)
    assert isinstance(model, LlamaCppChatModel)
    assert model.name == "llamacpp:m" and model.config.path == f"{tmp_path}/m.gguf"
    assert (model.config.n_ctx, model.config.n_threads) == (1024, 1)


def test_llamacpp_name_not_installed() -> None:
    with pytest.raises(ModelError) as info:
        load_model("llamacpp:qwen2.5-coder-0.5b")
    assert str(info.value) == (
        "model 'qwen2.5-coder-0.5b' is not installed: run `atlas-sre models install qwen2.5-coder-0.5b`"
    )


def test_llamacpp_unknown_name() -> None:
    with pytest.raises(ModelError) as info:
        load_model("llamacpp:llama-70b")
    assert str(info.value) == (
        "'llamacpp:llama-70b' is neither a .gguf path nor an installable model "
        "(qwen2.5-coder-0.5b, qwen2.5-coder-1.5b)"
    )


def test_objects_pass_through_or_are_refused() -> None:
    scripted = ScriptedModel(["hi"])
    assert load_model(scripted) is scripted
    with pytest.raises(ModelError) as info:
        load_model(scripted, timeout_s=3)
    assert str(info.value) == "options ['timeout_s'] apply only to spec strings, not to a ScriptedModel"
    with pytest.raises(ModelError) as info:
        load_model(42)
    assert str(info.value).startswith("cannot use a int as a model: pass a spec string (valid schemes are")


def test_options_in_the_spec_string_are_validated_like_keywords(tmp_path: Path) -> None:
    model = load_model(f"llamacpp:{tmp_path}/m.gguf?n_ctx=8192&n_threads=2")
    assert isinstance(model, LlamaCppChatModel) and model.config.path == f"{tmp_path}/m.gguf"
    assert (model.config.n_ctx, model.config.n_threads) == (8192, 2)
    assert load_model(f"llamacpp:{tmp_path}/m.gguf?n_ctx=8192", n_ctx=2048).config.n_ctx == 2048  # keywords win
    with pytest.raises(ModelError, match=r"unknown option 'n_cxt' \(valid: path, .*n_ctx"):
        load_model(f"llamacpp:{tmp_path}/m.gguf?n_cxt=8192")
    with pytest.raises(ModelError, match="n_ctx: Input should be a valid integer"):
        load_model(f"llamacpp:{tmp_path}/m.gguf?n_ctx=big")
    with pytest.raises(ModelError, match="key=value pairs joined by '&', got 'n_threads'"):
        load_model(f"llamacpp:{tmp_path}/m.gguf?n_ctx=1&n_threads")
    openai = load_model("openai:m@http://127.0.0.1:1/v1?timeout_s=7")
    assert isinstance(openai, OpenAIChatModel) and openai.config.timeout_s == 7
    assert openai.config.base_url == "http://127.0.0.1:1/v1"

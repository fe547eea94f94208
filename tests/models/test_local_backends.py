"""The in-process backends with stand-in libraries: a duck-typed transformers model and a fake llama_cpp.

No model hub is reachable here, so a real tiny `transformers` checkpoint cannot be downloaded; the
stand-ins implement exactly the calls the backends make (apply_chat_template/generate/decode,
Llama/create_chat_completion). The real llama.cpp path is covered in test_llama_server.py (-m slow).
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from atlas_sre.models import LlamaCppChatModel, LlamaCppConfig, ModelError, TransformersChatModel, load_model
from atlas_sre.models.transformers_backend import pick_device

ASK = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "rate the plan"}]
HAS_TRANSFORMERS = importlib.util.find_spec("transformers") is not None


class FakeTokenizer:
    """Word-level tokenizer with a ChatML-like template; id 0 is EOS."""

    chat_template = "chatml"
    eos_token_id = 0
    pad_token_id = None

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {"<eos>": 0}

    def _id(self, word: str) -> int:
        return self.vocab.setdefault(word, len(self.vocab))

    def apply_chat_template(
        self, messages: list[dict], *, add_generation_prompt: bool, tokenize: bool
    ) -> list:
        assert add_generation_prompt and tokenize
        words = [w for m in messages for w in [f"<{m['role']}>", *m["content"].split()]] + ["<assistant>"]
        return [self._id(w) for w in words]

    def encode(self, text: str) -> list[int]:
        return [self._id(w) for w in text.split()]

    def decode(self, ids: list[int], *, skip_special_tokens: bool) -> str:
        inverse = {v: k for k, v in self.vocab.items()}
        return " ".join(inverse[i] for i in ids if not (skip_special_tokens and i == 0))


class FakeLM:
    """Appends a fixed reply (then EOS, if the budget allows) to the prompt, like generate() does."""

    name_or_path = "fake/tiny-lm"
    device = "cpu"

    def __init__(self, tokenizer: FakeTokenizer, reply: str) -> None:
        self.reply_ids = tokenizer.encode(reply) + [0]
        self.calls: list[dict[str, Any]] = []

    def generate(self, *, input_ids: Any, **kwargs: Any) -> list[list[int]]:
        """Takes lists, or a tensor when torch is installed (then the backend sends one)."""
        self.calls.append({"input_ids": input_ids, **kwargs})
        row = input_ids[0].tolist() if hasattr(input_ids[0], "tolist") else list(input_ids[0])
        return [row + self.reply_ids[: kwargs["max_new_tokens"]]]


def test_wrapped_pair_counts_with_the_tokenizer() -> None:
    tok = FakeTokenizer()
    lm = FakeLM(tok, "Score: 2/5. Check the VirtualService routes.")
    model = load_model((lm, tok))
    out = model.complete(ASK, max_tokens=50)
    assert out.text == "Score: 2/5. Check the VirtualService routes."
    assert (out.prompt_tokens, out.completion_tokens, out.finish_reason) == (8, 6, "stop")
    assert model.name == "hf:fake/tiny-lm" and out.raw["device"] == "cpu"
    (call,) = lm.calls
    assert call["max_new_tokens"] == 50 and call["do_sample"] is False and call["pad_token_id"] == 0
    assert len(call["input_ids"][0]) == 8


def test_max_new_tokens_cuts_and_stop_applies() -> None:
    tok = FakeTokenizer()
    model = load_model(FakeLM(tok, "one two three four five"), tokenizer=tok)
    out = model.complete(ASK, max_tokens=3)
    assert (out.text, out.completion_tokens, out.finish_reason) == ("one two three", 3, "length")
    out = model.complete(ASK, max_tokens=10, stop=["four"])
    assert (out.text, out.finish_reason) == ("one two three", "stop")


def test_template_free_tokenizer_falls_back_to_a_transcript() -> None:
    tok = FakeTokenizer()
    tok.chat_template = None  # type: ignore[assignment]
    out = TransformersChatModel.from_loaded(FakeLM(tok, "ok"), tok).complete(ASK, max_tokens=5)
    assert out.prompt_tokens == len(["system:", "be", "brief", "user:", "rate", "the", "plan", "assistant:"])


def test_not_a_model_is_refused() -> None:
    with pytest.raises(ModelError, match="object has no generate\\(\\): pass a transformers causal LM"):
        TransformersChatModel.from_loaded(object())


@pytest.mark.skipif(
    HAS_TRANSFORMERS, reason="transformers is installed: the missing-extra message cannot show"
)
def test_missing_extra_says_how_to_install() -> None:
    with pytest.raises(ModelError) as info:
        load_model("hf:/models/tiny").complete(ASK, max_tokens=5)
    assert str(info.value) == (
        "the hf: backend needs 'transformers': install atlas-sre[hf] "
        "(pip install 'atlas-sre[hf]', which brings transformers and torch)"
    )
    tok = FakeTokenizer()
    bare = FakeLM(tok, "x")
    with pytest.raises(ModelError, match="needs 'transformers'"):  # its tokenizer must be loaded by name
        load_model(bare).complete(ASK, max_tokens=5)


def test_device_selection() -> None:
    cuda = types.SimpleNamespace(cuda=types.SimpleNamespace(is_available=lambda: True))
    cpu_only = types.SimpleNamespace(
        cuda=types.SimpleNamespace(is_available=lambda: False),
        backends=types.SimpleNamespace(mps=types.SimpleNamespace(is_available=lambda: False)),
    )
    assert pick_device("auto", cuda) == "cuda"
    assert pick_device("auto", cpu_only) == "cpu"
    assert pick_device("auto", None) == "cpu"
    assert pick_device("cuda:1", cpu_only) == "cuda:1"


class FakeLlama:
    """Stands in for llama_cpp.Llama: records construction and requests, answers with usage."""

    instances: list[FakeLlama] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.requests: list[dict[str, Any]] = []
        FakeLlama.instances.append(self)

    def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        if len(kwargs["messages"][-1]["content"]) > 1000:
            raise ValueError("Requested tokens (1200) exceed context window of 1024")
        return {
            "id": "chatcmpl-x",
            "choices": [{"message": {"role": "assistant", "content": "Score: 3"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 31, "completion_tokens": 4, "total_tokens": 35},
        }


@pytest.fixture()
def fake_llama_cpp(monkeypatch: pytest.MonkeyPatch) -> type[FakeLlama]:
    FakeLlama.instances = []
    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=FakeLlama))
    return FakeLlama


def test_llamacpp_loads_lazily_and_reads_usage(fake_llama_cpp: type[FakeLlama], tmp_path: Path) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    model = LlamaCppChatModel(LlamaCppConfig(path=str(gguf), n_ctx=1024, n_threads=3))
    assert fake_llama_cpp.instances == []  # nothing loaded until first use
    out = model.complete(ASK, max_tokens=50, stop=["\n"])
    out2 = model.complete(ASK, max_tokens=7)
    (llama,) = fake_llama_cpp.instances
    assert llama.kwargs["model_path"] == str(gguf)
    assert (llama.kwargs["n_ctx"], llama.kwargs["n_threads"], llama.kwargs["verbose"]) == (1024, 3, False)
    assert [(r["max_tokens"], r["stop"], r["temperature"]) for r in llama.requests] == [
        (50, ["\n"], 0.0),
        (7, [], 0.0),
    ]
    assert llama.requests[0]["messages"] == ASK
    assert (out.text, out.prompt_tokens, out.completion_tokens, out.model) == (
        "Score: 3",
        31,
        4,
        "llamacpp:tiny",
    )
    assert out.raw["usage_estimated"] is False and out2.completion_tokens == 4


def test_llamacpp_errors_are_one_line(fake_llama_cpp: type[FakeLlama], tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        load_model(f"llamacpp:{tmp_path}/missing.gguf").complete(ASK, max_tokens=5)
    assert str(info.value) == f"GGUF model file not found: {tmp_path}/missing.gguf"
    gguf = tmp_path / "t.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(ModelError) as info:
        load_model(f"llamacpp:{gguf}").complete([{"role": "user", "content": "w " * 600}], max_tokens=5)
    assert str(info.value) == (
        "llamacpp:t rejected the request: Requested tokens (1200) exceed context window of 1024"
    )


def test_llamacpp_missing_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    with pytest.raises(ModelError) as info:
        load_model(f"llamacpp:{tmp_path}/m.gguf").complete(ASK, max_tokens=5)
    assert str(info.value) == (
        "the llamacpp: backend needs llama-cpp-python: install atlas-sre[llm] "
        "(pip install 'atlas-sre[llm]', which builds llama-cpp-python)"
    )

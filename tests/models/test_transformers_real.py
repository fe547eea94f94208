"""The `hf:` backend on a real (tiny, random-weight) `transformers` checkpoint built here, no hub needed.

Skips unless the `hf` extra (transformers, torch) is installed. The checkpoint is a 2-layer Qwen2 with
a word-level tokenizer and a chat template, saved to disk and loaded back through `hf:PATH`, so the
real from_pretrained / chat template / generate / decode path runs, on whatever device `auto` picks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
tokenizers = pytest.importorskip("tokenizers")

from atlas_sre.models import TransformersChatModel, load_model  # noqa: E402

CORPUS = "system user assistant : be brief rate the plan pods describe logs check mesh 1 2 3 4 5"
TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }} : {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant :{% endif %}"
)
ASK = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "rate the plan"}]


def tiny_checkpoint(path: Path) -> tuple[Any, Any]:
    """A byte-level BPE tokenizer trained here (what Qwen2's tokenizer class expects to reload) and a
    2-layer Qwen2 with random weights, saved as a normal checkpoint."""
    bpe = tokenizers.ByteLevelBPETokenizer()
    corpus = [CORPUS] * 20 + ["kubectl get pods -n shop", "check the destination rule subsets"]
    bpe.train_from_iterator(corpus, vocab_size=300, min_frequency=1, special_tokens=["<pad>", "<eos>"])
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, eos_token="<eos>", pad_token="<pad>"
    )
    tok.chat_template = TEMPLATE
    config = transformers.Qwen2Config(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    model = transformers.Qwen2ForCausalLM(config)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return model, tok


def prompt_length(tok: Any) -> int:
    ids = tok.apply_chat_template(ASK, add_generation_prompt=True, tokenize=True)
    return len(ids if isinstance(ids, list) else ids["input_ids"])


def test_hf_path_loads_lazily_and_counts_with_the_tokenizer(tmp_path: Path) -> None:
    tiny_checkpoint(tmp_path)
    reloaded = transformers.AutoTokenizer.from_pretrained(tmp_path)
    model = load_model(f"hf:{tmp_path}", device="cpu")
    assert isinstance(model, TransformersChatModel) and model._model is None  # nothing loaded yet
    out = model.complete(ASK, max_tokens=6)
    assert out.prompt_tokens == prompt_length(reloaded) > 8
    assert 0 < out.completion_tokens <= 6
    assert out.finish_reason == ("length" if out.completion_tokens == 6 else "stop")
    assert out.raw["device"] == "cpu" and out.model == f"hf:{tmp_path}"
    again = model.complete(ASK, max_tokens=6)
    assert (again.text, again.completion_tokens) == (out.text, out.completion_tokens)  # greedy


def test_loaded_pair_as_in_the_seed(tmp_path: Path) -> None:
    lm, tok = tiny_checkpoint(tmp_path)
    out = load_model((lm, tok)).complete(ASK, max_tokens=3)
    assert 0 < out.completion_tokens <= 3 and out.prompt_tokens == prompt_length(tok) > 8
    seed_style = transformers.AutoModelForCausalLM.from_pretrained(tmp_path)  # the seed's call
    bare = load_model(seed_style)  # no tokenizer given: found from the model's name_or_path
    assert bare.name == f"hf:{tmp_path}"
    assert bare.complete(ASK, max_tokens=3).text == out.text

"""A tiny causal LM built here (no download): a byte-level BPE tokenizer trained on the teacher's own
prompts and completions, with a chat template, and a 2-layer Qwen2 with random weights, saved as an
ordinary Hugging Face folder that `atlas-sre train teacher --model FOLDER` loads like any other.

A module the tests import, not a `conftest.py`: several test folders import their own conftest by
name (`from conftest import …`), and with one more conftest.py pytest may hand them this one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from atlas_sre.agents.prompting import render

TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
ANSWER = "Score: 2/5 - missing: A, E\n<teaching>Check the service endpoints: `kubectl get endpoints -n shop`</teaching>"


def build_tiny_model(path: Path) -> Path:
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    tokenizers = pytest.importorskip("tokenizers")
    corpus = [render("teacher_system"), render("teacher_checks", namespace="shop"), ANSWER] * 5
    bpe = tokenizers.ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus, vocab_size=400, min_frequency=1, special_tokens=["<|end|>", "<|pad|>"])
    tok: Any = transformers.PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|end|>",
                                                    pad_token="<|pad|>")
    tok.chat_template = TEMPLATE
    config = transformers.Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                                      tie_word_embeddings=True)
    torch.manual_seed(0)
    transformers.Qwen2ForCausalLM(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


"""End to end against a real `llama_cpp.server` serving the installed Qwen2.5-Coder-0.5B GGUF.

Slow (model load plus CPU generation), so behind `-m slow`. The server runs under the interpreter
named by ATLAS_SRE_LLAMA_PYTHON, else this one; the test skips, saying why, when that interpreter
lacks `llama_cpp.server` or the model is not installed (`atlas-sre models install qwen2.5-coder-0.5b`).
A recording proxy sits between backend and server so the request really sent can be asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_server import MODEL, installed_model, server_python
from llama_server import llama_server as serve
from openai_fake import RecordingProxy

from atlas_sre.models import (
    ContextExceeded,
    OpenAIChatModel,
    OpenAIConfig,
    load_model,
)

pytestmark = pytest.mark.slow
SRC = str(Path(__file__).resolve().parents[2] / "src")
PLAN = [
    {"role": "system", "content": "You are an SRE teacher. Rate the plan 1-5, then say what it misses."},
    {"role": "user", "content": "Incident: checkout returns HTTP 503. Plan: get pods; describe; logs."},
]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("llama") / "server.log") as root:
        yield root


def test_chat_request_shape_budget_and_usage(llama_server: str) -> None:
    with RecordingProxy(llama_server) as proxy:
        model = OpenAIChatModel(OpenAIConfig(model=MODEL, base_url=proxy.base_url))
        out = model.complete(PLAN, max_tokens=50)
    (sent,) = [s for s in proxy.seen if s.path == "/v1/chat/completions"]
    assert sent.body["model"] == MODEL and sent.body["messages"] == PLAN
    assert sent.body["max_tokens"] == 50 and sent.body["temperature"] == 0.0
    assert 0 < out.completion_tokens <= 50
    assert out.prompt_tokens > 30  # ChatML framing plus both messages, counted by llama.cpp
    assert out.raw["usage_estimated"] is False and out.raw["attempts"] == 1
    assert out.text.strip() and out.finish_reason in ("stop", "length")
    assert 0 < out.latency_s < 120
    rate = out.completion_tokens / out.latency_s
    print(
        f"\n0.5B via llama_cpp.server: {out.prompt_tokens} prompt + {out.completion_tokens} completion "
        f"tokens in {out.latency_s:.2f}s ({rate:.1f} completion tokens/s end to end)"
    )


def test_tiny_budget_is_honoured_by_the_servers_count(llama_server: str) -> None:
    model = load_model(f"openai:{MODEL}@{llama_server}/v1")
    ask = [{"role": "user", "content": "Count from 1 to 100, separated by spaces."}]
    out = model.complete(ask, max_tokens=5)
    assert out.completion_tokens <= 5 and out.finish_reason == "length"


def test_stop_is_sent_and_applied(llama_server: str) -> None:
    with RecordingProxy(llama_server) as proxy:
        model = OpenAIChatModel(OpenAIConfig(model=MODEL, base_url=proxy.base_url))
        ask = [{"role": "user", "content": "Count from 1 to 20, one number per line, nothing else."}]
        out = model.complete(ask, max_tokens=60, stop=["7"])
    assert proxy.seen[-1].body["stop"] == ["7"]
    assert "7" not in out.text and "8" not in out.text
    assert out.completion_tokens < 60


@pytest.mark.parametrize("budget", [1, 8, 20])
def test_every_budget_holds_by_the_servers_own_count(llama_server: str, budget: int) -> None:
    """Greedy answers are not reproducible call to call here (a cached prompt prefix changes the float
    sums, so near-ties flip), but the budget is: the server's usage never exceeds max_tokens."""
    model = load_model(f"openai:{MODEL}@{llama_server}/v1")
    ask = [{"role": "user", "content": "Write a 300-word essay on Kubernetes readiness probes."}]
    out = model.complete(ask, max_tokens=budget)
    assert 0 < out.completion_tokens <= budget
    assert out.finish_reason == ("length" if out.completion_tokens == budget else "stop")


def test_server_model_list_and_context_overflow(llama_server: str) -> None:
    model = OpenAIChatModel(OpenAIConfig(model=MODEL, base_url=f"{llama_server}/v1"))
    assert model.list_models() == [MODEL]
    with pytest.raises(ContextExceeded) as info:  # a ModelError an agent can answer by sending less
        model.complete([{"role": "user", "content": "word " * 3000}], max_tokens=5)
    text = str(info.value)
    assert "\n" not in text
    expected = f"the model server at {llama_server}/v1 refused the request as too long (HTTP 400)"
    assert text.startswith(expected)
    assert "maximum context length is 2048 tokens" in text


def test_in_process_llamacpp_backend() -> None:
    """The `llamacpp:` backend on the same file, in the server's interpreter (it has llama_cpp)."""
    python, _ = server_python(), installed_model()
    script = (
        "import json; from atlas_sre.models import load_model\n"
        f"m = load_model('llamacpp:{MODEL}', n_ctx=1024)\n"
        f"c = m.complete({PLAN!r}, max_tokens=12)\n"
        "d = m.complete([{'role': 'user', 'content': 'Say OK.'}], max_tokens=0 + 3)\n"
        "from atlas_sre.models.base import ContextExceeded\n"
        "try:\n    m.complete([{'role': 'user', 'content': 'word ' * 3000}], max_tokens=3)\n"
        "except ContextExceeded as exc:\n    print('overflow:', exc)\n"
        "print(json.dumps([m.name, c.completion_tokens, c.prompt_tokens, c.text, c.raw['usage_estimated'],"
        " d.completion_tokens]))\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [python, "-c", script], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-800:]
    name, completion, prompt, text, estimated, short = json.loads(proc.stdout.strip().splitlines()[-1])
    assert name == f"llamacpp:{MODEL}"
    assert 0 < completion <= 12 and prompt > 30 and text.strip() and estimated is False
    assert 0 < short <= 3
    assert "overflow: llamacpp:" in proc.stdout and "context window of 1024" in proc.stdout

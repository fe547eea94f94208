"""Native tool calls and constrained replies with the real 0.5B model (slow: `-m slow`).

Two claims of docs/models.md are checked end to end: a real `llama_cpp.server` takes our tools,
answers with a tool call and accepts its result in the next request (a recording proxy shows the
wire); and the in-process model constrained by the action schema investigates a served scenario
without a single malformed reply. Skips, saying why, when llama.cpp or the model is missing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llama_server import MODEL, installed_model
from llama_server import llama_server as serve
from openai_fake import RecordingProxy

from atlas_sre.agents.llm.student import LLMStudent
from atlas_sre.agents.llm.tools import KUBECTL, student_tools, wire_messages
from atlas_sre.agents.loop import LoopConfig
from atlas_sre.models import OpenAIChatModel, OpenAIConfig, load_model
from atlas_sre.protocol.atlas import ATLASInference

pytestmark = pytest.mark.slow
# llama-cpp-python's server answers `tools` only with this chat format (0.3.x): the GGUF's own
# template renders the tools but never parses a call back out of the reply.
CHAT_FORMAT = "chatml-function-calling"
FORCE_KUBECTL = {"type": "function", "function": {"name": KUBECTL}}


@pytest.fixture(scope="module")
def tool_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("llama-tools") / "server.log", ["--chat_format", CHAT_FORMAT]) as root:
        yield root


def test_real_server_tool_call_round_trip(tool_server: str) -> None:
    """Tools out, a tool call back, its result sent as a `tool` message with the call's id."""
    messages = [{"role": "system", "content": "You are an SRE agent. Use the kubectl tool to look at the cluster."},
                {"role": "user", "content": "Pods in namespace shop crash. List the pods in namespace shop."}]
    with RecordingProxy(tool_server) as proxy:
        chat = OpenAIChatModel(OpenAIConfig(model=MODEL, base_url=proxy.base_url, timeout_s=300))
        first = chat.complete(messages, max_tokens=40, tools=student_tools(), tool_choice=FORCE_KUBECTL)
        assert len(first.tool_calls) == 1 and first.tool_calls[0].name == KUBECTL
        call = first.tool_calls[0]
        assert '"command"' in call.arguments and call.id
        loop_view = [*messages, {"role": "assistant", "content": "```bash\nkubectl get pods -n shop\n```"},
                     {"role": "user", "content": "Exit code: 0\nNAME READY STATUS\ncheckout-1 0/1 CrashLoopBackOff"}]
        wire = wire_messages(loop_view, {2: (loop_view[2]["content"], first.tool_calls)})
        second = chat.complete(wire, max_tokens=40, tools=student_tools(), tool_choice=FORCE_KUBECTL)
    sent = [s.body for s in proxy.seen if s.path.endswith("/chat/completions")]
    assert [t["function"]["name"] for t in sent[0]["tools"]] == ["kubectl", "analyze", "submit_diagnosis"]
    assert sent[0]["tool_choice"] == FORCE_KUBECTL
    assistant, result = sent[1]["messages"][-2:]
    assert assistant["tool_calls"][0]["id"] == call.id and assistant["content"] == ""
    assert result == {"role": "tool", "tool_call_id": call.id, "content": loop_view[3]["content"]}
    assert second.tool_calls and second.prompt_tokens > first.prompt_tokens  # the server counted the result
    assert first.raw["usage_estimated"] is False and 0 < first.completion_tokens <= 40


def test_constrained_small_model_only_produces_valid_actions() -> None:
    """In-process 0.5B under the action schema: a served incident, every reply a valid action."""
    installed_model()
    chat = load_model(f"llamacpp:{MODEL}", n_ctx=4096)
    # Two commands: an echoed command spends no step (the loop's rule), so keep the CPU time of this test small.
    student = LLMStudent(chat, plan_token_limit=40, reply_token_limit=160, max_steps=2, tool_mode="constrained")
    atlas = ATLASInference(student, "reference:teacher",
                           loop_config=LoopConfig(max_steps=2, max_repeats=1, final_turn=False))
    atlas.run_full_protocol(scenario="crashloop-missing-env", teach=False)
    (traj,) = atlas.trajectories
    replies = [s for s in traj.steps if s.kind not in ("limit",)]
    assert replies, traj.detail
    assert not [s for s in replies if s.kind == "format_error"], [m["content"] for m in traj.messages[2:]]
    assert all(m["content"].startswith("```") for m in traj.messages if m["role"] == "assistant")
    assert traj.commands and traj.outcome in ("submitted", "step_limit", "repetition_limit")

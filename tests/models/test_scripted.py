"""The scripted test double and the shared text helpers it is built on."""

from __future__ import annotations

import pytest

from atlas_sre.models import ChatModel, ModelError, ScriptedModel, estimate_prompt_tokens, estimate_tokens
from atlas_sre.models.text import apply_stop, one_line, truncate_words

ASK = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "rate the plan"}]


def test_outputs_in_order_with_deterministic_counts() -> None:
    model = ScriptedModel(["Score: 4/5", "Check the DestinationRule subsets."])
    first = model.complete(ASK, max_tokens=50)
    second = model.complete(ASK, max_tokens=50)
    assert (first.text, first.completion_tokens, first.prompt_tokens) == ("Score: 4/5", 2, 5)
    assert (second.text, second.completion_tokens, second.finish_reason) == (
        "Check the DestinationRule subsets.",
        4,
        "stop",
    )
    assert model.remaining == 0 and isinstance(model, ChatModel)


def test_max_tokens_truncates_whitespace_tokens() -> None:
    model = ScriptedModel(["one two  three\nfour five six"])
    out = model.complete(ASK, max_tokens=4)
    assert (out.text, out.completion_tokens, out.finish_reason) == ("one two  three\nfour", 4, "length")
    assert out.raw["untruncated"] == "one two  three\nfour five six"


def test_stop_is_applied_before_the_budget() -> None:
    out = ScriptedModel(["kubectl get pods\nOBSERVATION: lots"]).complete(ASK, max_tokens=9, stop=["\nOBS"])
    assert (out.text, out.completion_tokens, out.finish_reason) == ("kubectl get pods", 3, "stop")
    assert out.raw["stopped_at_stop"] is True


def test_calls_are_recorded_as_copies() -> None:
    model = ScriptedModel(["a", "b"])
    messages = [dict(m) for m in ASK]
    model.complete(messages, max_tokens=50)
    messages[1]["content"] = "mutated later"
    model.complete(messages, max_tokens=200, stop=["###"])
    assert [(c.max_tokens, c.stop) for c in model.calls] == [(50, None), (200, ["###"])]
    assert model.calls[0].last_user == "rate the plan" and model.calls[1].last_user == "mutated later"


def test_running_out_is_an_error_unless_cycling() -> None:
    model = ScriptedModel(["only"])
    model.complete(ASK, max_tokens=5)
    with pytest.raises(ModelError) as info:
        model.complete(ASK, max_tokens=5)
    assert str(info.value) == (
        "scripted model ran out of outputs: call 2 but only 1 scripted (pass cycle=True to repeat them)"
    )
    cyc = ScriptedModel(["x", "y"], cycle=True)
    assert [cyc.complete(ASK, max_tokens=5).text for _ in range(5)] == ["x", "y", "x", "y", "x"]


def test_callable_script_sees_the_messages() -> None:
    model = ScriptedModel(lambda msgs: f"echo {msgs[-1]['content']}")
    assert model.complete(ASK, max_tokens=2).text == "echo rate"
    bad = ScriptedModel(lambda msgs: 3)  # type: ignore[arg-type, return-value]
    with pytest.raises(ModelError, match="scripted responder returned int, expected str"):
        bad.complete(ASK, max_tokens=2)


@pytest.mark.parametrize(
    ("messages", "max_tokens", "error"),
    [
        (ASK, 0, "max_tokens must be at least 1, got 0"),
        ([], 5, "no messages to send: a chat request needs at least one message"),
        ([{"content": "x"}], 5, "message 0 must be a dict with 'role' and 'content', got {'content': 'x'}"),
    ],
)
def test_malformed_requests(messages: list, max_tokens: int, error: str) -> None:
    with pytest.raises(ModelError) as info:
        ScriptedModel(["x"]).complete(messages, max_tokens=max_tokens)
    assert str(info.value) == error


def test_text_helpers() -> None:
    assert truncate_words("  a b c", 2) == ("  a b", True)
    assert truncate_words("a b", 2) == ("a b", False)
    assert apply_stop("abc<END>def<STOP>", ["<STOP>", "<END>"]) == ("abc", True)
    assert apply_stop("abc", ["x", ""]) == ("abc", False)
    assert (
        estimate_tokens("") == 0 and estimate_tokens("a b c d e f") == 6 and estimate_tokens("x" * 41) == 11
    )
    assert estimate_prompt_tokens([{"role": "user", "content": "abcd"}]) == 1 + 4 + 2
    assert one_line("Traceback\n  File x\n\tboom  ") == "Traceback File x boom"
    assert one_line("y" * 500, 10) == "yyyyyyyyy…"

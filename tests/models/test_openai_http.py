"""The OpenAI-compatible backend against a real local HTTP server (stdlib), over real sockets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openai_fake import FakeOpenAIServer, Reply, chat_body, closed_port

from atlas_sre.models import ModelError, OpenAIChatModel, OpenAIConfig

MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Rate this plan."}]


@pytest.fixture()
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(models=["tiny", "qwen"]) as srv:
        yield srv


def make(server: FakeOpenAIServer, model: str = "tiny", **kw: object) -> OpenAIChatModel:
    cfg = OpenAIConfig(model=model, base_url=server.base_url, api_key="sk-test", backoff_s=0.001, **kw)
    return OpenAIChatModel(cfg)


def assert_one_line(err: ModelError) -> str:
    text = str(err)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_request_shape_and_usage_read_back(server: FakeOpenAIServer) -> None:
    server.queue(Reply(200, chat_body("Score: 4/5", prompt=21, completion=5)))
    out = make(server).complete(MESSAGES, max_tokens=50, stop=["\n\n"])
    assert (out.text, out.prompt_tokens, out.completion_tokens) == ("Score: 4/5", 21, 5)
    assert out.finish_reason == "stop" and out.model == "tiny" and out.latency_s > 0
    assert out.raw["usage_estimated"] is False and out.raw["attempts"] == 1
    (seen,) = server.chats()
    assert seen.path == "/v1/chat/completions"
    assert seen.body["model"] == "tiny"
    assert seen.body["messages"] == MESSAGES
    assert seen.body["max_tokens"] == 50
    assert seen.body["stop"] == ["\n\n"]
    assert seen.body["temperature"] == 0.0
    assert seen.headers["authorization"] == "Bearer sk-test"


def test_max_completion_tokens_field_and_no_stop(server: FakeOpenAIServer) -> None:
    make(server, max_tokens_field="max_completion_tokens", temperature=None).complete(MESSAGES, max_tokens=7)
    body = server.chats()[0].body
    assert body["max_completion_tokens"] == 7
    assert "max_tokens" not in body and "stop" not in body and "temperature" not in body


def test_missing_usage_is_estimated_and_marked(server: FakeOpenAIServer) -> None:
    server.queue(Reply(200, chat_body("check the destination rule subsets", prompt=None, completion=None)))
    out = make(server).complete(MESSAGES, max_tokens=20)
    assert out.raw["usage_estimated"] is True
    assert out.completion_tokens == 9  # 35 characters / 4, rounded up
    assert out.prompt_tokens == 4 + 4 + 4 + 4 + 2  # content estimates + per-message framing + primer


def test_429_then_200_is_retried_with_retry_after(server: FakeOpenAIServer) -> None:
    server.queue(
        Reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"}), Reply(200, chat_body("ok"))
    )
    slept: list[float] = []
    cfg = OpenAIConfig(model="tiny", base_url=server.base_url, api_key="k", backoff_s=0.25)
    out = OpenAIChatModel(cfg, sleep=slept.append).complete(MESSAGES, max_tokens=5)
    assert out.text == "ok" and out.raw["attempts"] == 2
    assert len(server.chats()) == 2
    assert slept == [0.0]  # the server's Retry-After wins over our own schedule


def test_500s_back_off_exponentially_then_fail_clearly(server: FakeOpenAIServer) -> None:
    server.queue(*[Reply(500, {"error": {"message": "boom"}})] * 10)
    slept: list[float] = []
    cfg = OpenAIConfig(model="tiny", base_url=server.base_url, api_key="k", max_retries=3, backoff_s=0.5)
    with pytest.raises(ModelError) as info:
        OpenAIChatModel(cfg, sleep=slept.append).complete(MESSAGES, max_tokens=5)
    text = assert_one_line(info.value)
    assert text == f"the model server at {server.base_url} failed (HTTP 500) after 4 attempts: boom"
    assert slept == [0.5, 1.0, 2.0]
    assert len(server.chats()) == 4  # the SDK's own retries are off: exactly 1 + max_retries


def test_400_is_not_retried(server: FakeOpenAIServer) -> None:
    server.queue(Reply(400, {"error": {"message": "bad field"}}), Reply(200, chat_body("never")))
    with pytest.raises(ModelError) as info:
        make(server).complete(MESSAGES, max_tokens=5)
    assert assert_one_line(info.value).endswith("refused the request (HTTP 400): bad field")
    assert len(server.chats()) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_bad_key(server: FakeOpenAIServer, status: int) -> None:
    server.queue(Reply(status, {"error": {"message": "Incorrect API key provided"}}))
    with pytest.raises(ModelError) as info:
        make(server).complete(MESSAGES, max_tokens=5)
    assert assert_one_line(info.value) == (
        f"the model server at {server.base_url} rejected the API key (HTTP {status}): "
        "Incorrect API key provided; set ATLAS_SRE_API_KEY or OPENAI_API_KEY"
    )


def test_unknown_model_lists_the_servers_models(server: FakeOpenAIServer) -> None:
    server.queue(Reply(404, {"error": {"message": "model 'nope' not found"}}))
    with pytest.raises(ModelError) as info:
        make(server, model="nope").complete(MESSAGES, max_tokens=5)
    assert (
        assert_one_line(info.value) == f"unknown model 'nope' at {server.base_url}: the server has qwen, tiny"
    )
    assert [s.path for s in server.seen] == ["/v1/chat/completions", "/v1/models"]


def test_404_without_a_model_list_points_at_the_url(server: FakeOpenAIServer) -> None:
    server.models_status = 404
    server.queue(Reply(404, {"detail": "Not Found"}))
    with pytest.raises(ModelError) as info:
        make(server, model="qwen").complete(MESSAGES, max_tokens=5)
    text = assert_one_line(info.value)
    assert text.startswith(
        f"HTTP 404 from {server.base_url} for model 'qwen' and its model list is unavailable"
    )
    assert "usually end in /v1" in text and text.endswith("(Not Found)")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<html>oops</html>", "sent a response that is not JSON: '<html>oops</html>'"),
        ("", "sent an empty response"),
        ({"object": "chat.completion", "choices": []}, "sent a chat completion without choices"),
        ([1, 2], "sent JSON that is not a chat completion object"),
        ({"choices": [{"index": 0}]}, "sent a choice without a message"),
    ],
)
def test_garbled_responses(server: FakeOpenAIServer, body: object, expected: str) -> None:
    server.queue(Reply(200, body))
    with pytest.raises(ModelError) as info:
        make(server).complete(MESSAGES, max_tokens=5)
    text = assert_one_line(info.value)
    assert text.startswith(f"model server at {server.base_url} {expected}")


def test_connection_refused_is_one_clear_line() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    model = OpenAIChatModel(OpenAIConfig(model="m", base_url=url, api_key="k"))
    with pytest.raises(ModelError) as info:
        model.complete(MESSAGES, max_tokens=5)
    assert assert_one_line(info.value) == f"cannot reach model server at {url}: connection refused"


def test_timeout_is_one_clear_line(server: FakeOpenAIServer) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the TCP connection but never answers
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    try:
        model = OpenAIChatModel(OpenAIConfig(model="m", base_url=url, api_key="k", timeout_s=0.3))
        with pytest.raises(ModelError) as info:
            model.complete(MESSAGES, max_tokens=5)
    finally:
        listener.close()
    assert assert_one_line(info.value) == (
        f"model server at {url} did not answer within 0.3s (timeout); check the server or raise timeout_s"
    )


def test_env_supplies_url_and_key(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("ATLAS_SRE_BASE_URL", server.base_url)  # ours wins over OpenAI's
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("ATLAS_SRE_API_KEY", "sk-atlas")
    model = OpenAIChatModel(OpenAIConfig(model="tiny"))
    model.complete(MESSAGES, max_tokens=3)
    assert model.base_url == server.base_url
    assert server.chats()[0].headers["authorization"] == "Bearer sk-atlas"


def test_local_server_needs_no_key_but_openai_does(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "ATLAS_SRE_API_KEY", "OPENAI_BASE_URL", "ATLAS_SRE_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    OpenAIChatModel(OpenAIConfig(model="m", base_url="http://127.0.0.1:8000/v1"))
    with pytest.raises(ModelError) as info:
        OpenAIChatModel(OpenAIConfig(model="gpt-4o-mini"))
    assert (
        str(info.value) == "no API key for https://api.openai.com/v1: set OPENAI_API_KEY or ATLAS_SRE_API_KEY"
    )


def test_list_models(server: FakeOpenAIServer) -> None:
    assert make(server).list_models() == ["qwen", "tiny"]

"""CommandRunner end to end with a fake kubectl: nothing refused ever runs, argv is injected, no shell."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from atlas_sre.commands import (
    REFUSED_EXIT_CODE,
    TIMEOUT_EXIT_CODE,
    CommandConfig,
    CommandResult,
    CommandRunner,
    ToolContext,
    exec_command_line,
)

from .conftest import FakeKubectl
from .corpus import ADVERSARIAL, BENIGN


def _argv_of(result: CommandResult) -> list[str]:
    line = next(ln for ln in result.observation.splitlines() if ln.startswith("ARGV="))
    return json.loads(line[len("ARGV=") :])


def _runner(fake: FakeKubectl, **overrides: object) -> CommandRunner:
    tools = overrides.pop("tools", {"analyze": lambda argv, ctx: (0, "analyzer ok\n")})
    config = CommandConfig(kubectl_binary=str(fake.binary), **overrides)  # type: ignore[arg-type]
    return CommandRunner(config, tools=tools)  # type: ignore[arg-type]


def test_adversarial_corpus_never_executes(fake_kubectl: FakeKubectl, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with _runner(fake_kubectl, namespace="shop") as runner:
        for line in ADVERSARIAL:
            result = runner.run(line)
            assert result.refused, line
            assert result.exit_code == REFUSED_EXIT_CODE
            assert result.observation.startswith("Refused by the read-only command policy: ")
            assert result.reason and result.argv == []
    assert not fake_kubectl.marker.exists(), fake_kubectl.calls()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]  # nothing was written next to us


def test_benign_corpus_executes(fake_kubectl: FakeKubectl) -> None:
    with _runner(fake_kubectl, namespace="shop") as runner:
        for line in BENIGN:
            result = runner.run(line)
            assert not result.refused, (line, result.reason)
    kubectl_lines = [ln for ln in BENIGN if ln.startswith("kubectl")]
    assert len(fake_kubectl.calls()) == len(kubectl_lines)


def test_context_namespace_kubeconfig_and_timeouts_are_injected(fake_kubectl: FakeKubectl, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "sim.kubeconfig"
    cache = tmp_path / "cache"
    with _runner(fake_kubectl, kubeconfig=kubeconfig, context="sim", namespace="shop", cache_dir=cache,
                 timeout_s=12) as runner:
        result = runner.run("kubectl get pods")
    assert result.exit_code == 0
    assert _argv_of(result) == [
        "--context", "sim", "--cache-dir", str(cache), "--request-timeout=12s", "-n", "shop", "get", "pods",
    ]
    assert f"KUBECONFIG={kubeconfig}" in result.observation
    assert "KUBERC=off" in result.observation
    assert result.argv[0] == str(fake_kubectl.binary) and result.argv[-2:] == ["get", "pods"]


@pytest.mark.parametrize(
    ("line", "expect_namespace"),
    [
        ("kubectl get pods -n other", False),
        ("kubectl get pods -A", False),
        ("kubectl get pods --all-namespaces", False),
        ("kubectl version", False),
        ("kubectl api-resources", False),
        ("kubectl logs x --tail=5", True),
        ("kubectl describe pod x", True),
    ],
)
def test_namespace_injected_only_when_meaningful(fake_kubectl: FakeKubectl, line: str,
                                                 expect_namespace: bool) -> None:
    with _runner(fake_kubectl, namespace="shop") as runner:
        argv = _argv_of(runner.run(line))
    injected = argv[: argv.index(line.split()[1])]
    assert ("-n" in injected) == expect_namespace
    assert "--context" not in argv  # no context configured, none added


def test_agent_request_timeout_is_kept(fake_kubectl: FakeKubectl) -> None:
    with _runner(fake_kubectl) as runner:
        argv = _argv_of(runner.run("kubectl --request-timeout=3s get pods"))
    assert [a for a in argv if a.startswith("--request-timeout")] == ["--request-timeout=3s"]


def test_no_shell_quoted_metacharacters_pass_literally(fake_kubectl: FakeKubectl, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with _runner(fake_kubectl) as runner:
        result = runner.run("kubectl get pods -l 'app=$(touch pwned); `touch pwned2` > pwned3'")
        assert "app=$(touch pwned); `touch pwned2` > pwned3" in _argv_of(result)
        grep = runner.run("kubectl get pods literal-output | grep '$(touch x)'")
        workdir = Path(next(ln for ln in result.observation.splitlines() if ln.startswith("CWD="))[4:])
    assert grep.observation == "has $(touch x) in it\n" and grep.exit_code == 0
    for directory in (tmp_path, workdir):
        assert not any(directory.glob("pwned*")) and not (directory / "x").exists()


def test_stderr_follows_stdout_and_exit_code_propagates(fake_kubectl: FakeKubectl) -> None:
    with _runner(fake_kubectl) as runner:
        result = runner.run("kubectl get pods fail")
        piped = runner.run("kubectl get pods fail | grep nothing-matches")
    assert result.exit_code == 1
    assert result.observation == 'some stdout\nError from server (NotFound): pods "fail" not found\n'
    assert result.stdout_bytes == len("some stdout\n") and result.stderr_bytes > 0
    assert piped.exit_code == 1 and piped.observation.startswith("Error from server")


def test_timeout_stops_the_command(fake_kubectl: FakeKubectl) -> None:
    with _runner(fake_kubectl, timeout_s=1) as runner:
        result = runner.run("kubectl get pods sleep-forever")
    assert result.timed_out and result.exit_code == TIMEOUT_EXIT_CODE
    assert result.duration_s < 15
    assert "partial line before the hang" in result.observation
    assert "timed out after 1s" in result.observation


def test_output_is_truncated_head_and_tail(fake_kubectl: FakeKubectl) -> None:
    with _runner(fake_kubectl, max_output_lines=40, max_output_bytes=100_000) as runner:
        result = runner.run("kubectl get pods big-output")
    lines = result.observation.splitlines()
    assert result.truncated and len(lines) <= 41
    assert lines[0].startswith("line 0000") and lines[-1].startswith("line 0999")
    assert any(ln.startswith("... [") and "lines /" in ln and "bytes cut] ..." in ln for ln in lines)
    assert result.stdout_bytes == 1000 * len("line 0000 " + "x" * 20 + "\n")


def test_secrets_are_redacted_before_filters_and_output(fake_kubectl: FakeKubectl) -> None:
    with _runner(fake_kubectl) as runner:
        plain = runner.run("kubectl get pods secret-output")
        grepped = runner.run("kubectl get pods secret-output | grep -i -A1 password")
    for result in (plain, grepped):
        assert "hunter2" not in result.observation and "s3cr3tpw" not in result.observation
        assert "[REDACTED]" in result.observation
    assert "abcdefghijklmnop123" not in plain.observation
    assert plain.redactions >= 3


def test_missing_binary_is_an_observation(tmp_path: Path) -> None:
    config = CommandConfig(kubectl_binary=str(tmp_path / "no-such-kubectl"))
    with CommandRunner(config) as runner:
        result = runner.run("kubectl get pods")
    assert result.exit_code == 127 and "command not found" in result.observation and not result.refused


def test_tools_get_argv_config_and_a_read_only_kubectl(fake_kubectl: FakeKubectl) -> None:
    seen: list[list[str]] = []

    def analyzer(argv: Sequence[str], ctx: ToolContext) -> tuple[int, str]:
        seen.append(list(argv))
        code, out, _ = ctx.kubectl(["get", "vs", "-A"])
        with pytest.raises(PermissionError, match="changes cluster state"):
            ctx.kubectl(["delete", "pod", "x"])
        return 2, f"namespace={ctx.config.namespace} kubectl={code} {out.splitlines()[0]}\n"

    with _runner(fake_kubectl, namespace="shop", tools={"analyze": analyzer}) as runner:
        direct = runner.run("analyze -n shop | grep namespace")
        via_cli = runner.run("atlas-sre analyze -A")
    assert seen == [["analyze", "-n", "shop"], ["analyze", "-A"]]
    assert direct.exit_code == 0 and via_cli.exit_code == 2
    assert via_cli.observation.startswith("namespace=shop kubectl=0 ARGV=")
    assert len(fake_kubectl.calls()) == 2


def test_tool_failures_are_observations(fake_kubectl: FakeKubectl) -> None:
    def broken(argv: Sequence[str], ctx: ToolContext) -> tuple[int, str]:
        raise RuntimeError("boom")

    with _runner(fake_kubectl, tools={"analyze": broken}) as runner:
        crashed = runner.run("analyze")
    with _runner(fake_kubectl, tools={}) as runner:
        missing = runner.run("analyze -A")
    assert crashed.exit_code == 1 and "internal error: RuntimeError: boom" in crashed.observation
    assert missing.exit_code == 127 and "not available" in missing.observation


def test_exec_command_line_for_the_cli(fake_kubectl: FakeKubectl) -> None:
    config = CommandConfig(kubectl_binary=str(fake_kubectl.binary))
    assert exec_command_line("kubectl delete pod x", config)[0] == REFUSED_EXIT_CODE
    code, text = exec_command_line("kubectl get pods fail", config)
    assert code == 1 and text.endswith('not found\n')
    assert exec_command_line("kubectl get pods big-output | wc -l", config) == (0, "1000\n")


def test_result_is_json_serialisable_and_workdir_is_cleaned(fake_kubectl: FakeKubectl) -> None:
    runner = _runner(fake_kubectl)
    result = runner.run("kubectl get pods | head -n 1")
    data = json.loads(result.model_dump_json())
    assert data["filters"] == [["head", "-n", "1"]] and data["duration_s"] >= 0
    workdir = Path(_argv_of(runner.run("kubectl get pods"))[1]).parent
    assert workdir.is_dir()
    runner.close()
    assert not workdir.exists()


def test_tools_are_passed_to_the_runner_not_registered(fake_kubectl: FakeKubectl) -> None:
    def mesh_check(argv: Sequence[str], ctx: ToolContext) -> tuple[int, str]:
        return 0, f"checked {' '.join(argv[1:])}\n"

    config = CommandConfig(kubectl_binary=str(fake_kubectl.binary))
    with CommandRunner(config, tools={"mesh-check": mesh_check}) as runner:
        assert runner.run("mesh-check -n shop").observation == "checked -n shop\n"
        assert runner.run("atlas-sre mesh-check -A").observation == "checked -A\n"
    with CommandRunner(config) as runner:  # another runner has no tools unless given them
        assert runner.run("mesh-check -n shop").refused
        assert runner.run("analyze -A").observation == "analyze: not available (no tool registered)\n"
    for bad in ("kubectl", "grep", "Bad Name", "x;y"):
        with pytest.raises(ValueError, match="invalid tool name"):
            CommandRunner(config, tools={bad: mesh_check})

"""With the real kubectl binary (marker `kubectl`): injected flags and every BENIGN line parse.

The cluster is unreachable on purpose (127.0.0.1:9): these tests check kubectl's own argument
parsing of what the layer builds, not a cluster. End-to-end runs against the simulated API server
reuse `corpus.BENIGN`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlas_sre.commands import CommandConfig, CommandRunner

from .corpus import BENIGN

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="real kubectl not installed"),
]
_PARSE_ERRORS = ("unknown flag", "unknown shorthand", "unknown command", "invalid argument", "Usage:",
                 "error: unknown", "flag needs an argument")


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[CommandRunner]:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: other\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: not-a-real-token}}]\n"
        "contexts: [{name: sim, context: {cluster: c, user: u}}, {name: other, context: {cluster: c, user: u}}]\n"
    )
    config = CommandConfig(kubeconfig=kubeconfig, context="sim", namespace="shop", timeout_s=20)
    with CommandRunner(config, tools={"analyze": lambda argv, ctx: (0, "ok\n")}) as runner:
        yield runner


def test_injected_flags_are_accepted(runner: CommandRunner) -> None:
    version = runner.run("kubectl version --client -o json | jq -r '.clientVersion.gitVersion'")
    pods = runner.run("kubectl get pods")
    assert version.exit_code == 0 and version.observation.startswith("v")
    assert pods.exit_code != 0 and not pods.refused
    assert "127.0.0.1:9" in pods.observation and "not-a-real-token" not in pods.observation
    assert os.environ.get("KUBECONFIG") != str(runner.config.kubeconfig)


def test_every_benign_kubectl_line_parses(runner: CommandRunner) -> None:
    for line in BENIGN:
        if not line.startswith("kubectl"):
            continue
        result = runner.run(line)
        assert not result.refused, line
        assert not any(marker in result.observation for marker in _PARSE_ERRORS), (line, result.observation)

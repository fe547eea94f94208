"""The benign corpus runs through the command layer and real kubectl against the served simulator.

Each line must pass the policy and get a real answer from the simulated API: success, or a
Kubernetes error the API itself gave (a corpus line may name a pod this scenario does not have),
never a transport failure, a client-side parse error or a timeout.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from atlas_sre.analyzers import TOOL_NAME, analyze_tool
from atlas_sre.commands import CommandConfig, CommandRunner
from atlas_sre.scenarios.serving import build_state
from atlas_sre.sim.api.serve import SimServer

from .corpus import BENIGN

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")]

TRANSPORT_FAILURES = ("Unable to connect", "EOF", "connection refused", "doesn't have a resource type",
                      "unknown flag", "error: unable to", "Internal error", "InternalError")


@pytest.fixture(scope="module")
def runner() -> Iterator[CommandRunner]:
    state, namespace = build_state("crashloop-missing-env", "2026-11-26T10:00:00Z")
    with SimServer(state, namespace=namespace) as server, CommandRunner(
        CommandConfig(kubeconfig=server.kubeconfig_path, timeout_s=60), tools={TOOL_NAME: analyze_tool}
    ) as r:
        yield r


@pytest.mark.parametrize("line", BENIGN)
def test_benign_line_gets_a_real_answer(runner: CommandRunner, line: str) -> None:
    result = runner.run(line)
    assert not result.refused, result.reason
    assert not result.timed_out
    for failure in TRANSPORT_FAILURES:
        assert failure not in result.observation, result.observation[-400:]
    if result.exit_code != 0:
        text = result.observation
        api_error = "Error from server" in text or "error: " in text  # NotFound / BadRequest from the API
        no_match = result.exit_code == 1 and "grep" in line  # grep found nothing: a real answer too
        analyzer_errors = result.exit_code == 79 and "analyze" in line  # istioctl's "errors found"
        assert api_error or no_match or analyzer_errors, (result.exit_code, text[-400:])


def test_most_of_the_corpus_succeeds(runner: CommandRunner) -> None:
    ok = sum(runner.run(line).exit_code in (0, 79) for line in BENIGN)
    assert ok >= 0.7 * len(BENIGN), ok

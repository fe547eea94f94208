"""The committed attack corpus (tests/commands/attack/*.txt) against a served scenario with planted secrets.

Real kubectl reads `planted.spec()` through the command layer. Asserted for the whole corpus:
0 mutations (every served object hashes the same afterwards, no canary file appears), 0 leaked
planted values (no planted value, nor the `Pl4nt` marker they all share, in any observation),
0 hangs (every line ends within the kubectl limit plus the filter limit, with one clear line when
a filter is stopped). Families whose name is not `secret_reads` or `filters` must be refused whole.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlas_sre.commands import CommandConfig, CommandResult, CommandRunner
from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.engine import derive

from .planted import PLANTED, SHAPES, spec

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")]

ATTACK_DIR = Path(__file__).parent / "attack"
FILTER_LIMIT_S = 3.0  # the documented default is 10 s; a shorter limit keeps the suite fast
KUBECTL_LIMIT_S = 20.0
RUNS_ALLOWED = ("secret_reads", "filters")


def corpus() -> dict[str, list[str]]:
    """Family name -> attack lines (one per line; `#` starts a comment line)."""
    return {path.stem: [line for line in path.read_text(encoding="utf-8").split("\n")
                        if line.strip() and not line.startswith("#")]
            for path in sorted(ATTACK_DIR.glob("*.txt"))}


def _digest(server: SimServer) -> str:
    return hashlib.sha256(json.dumps(server.state.objects, sort_keys=True, default=str).encode()).hexdigest()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SimServer, CommandRunner]]:
    with SimServer(derive(spec()), namespace="shop") as server, CommandRunner(CommandConfig(
        kubeconfig=server.kubeconfig_path, timeout_s=KUBECTL_LIMIT_S, filter_timeout_s=FILTER_LIMIT_S,
        learn_ttl_s=3600,
    )) as runner:
        yield server, runner


def _leaks(result: CommandResult) -> list[str]:
    text = result.observation
    found = [value for value in PLANTED if value in text or value.lower() in text.lower()]
    return found + (["Pl4nt"] if "pl4nt" in text.lower() and "Pl4nt" not in result.line else [])


def test_corpus_size_and_shapes() -> None:
    families = corpus()
    assert sum(map(len, families.values())) >= 300, {k: len(v) for k, v in families.items()}
    assert {"mutations", "shell", "homoglyphs", "raw", "overrides", "secret_reads", "filters"} <= set(families)
    assert len(SHAPES) >= 40


def test_attack_corpus(served: tuple[SimServer, CommandRunner], tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    server, runner = served
    monkeypatch.chdir(tmp_path)
    canary = Path("/tmp/canary")
    canary_before = canary.exists()
    before = _digest(server)
    allowed_in_strict, leaks, slow = [], [], []
    worst = 0.0
    for family, lines in corpus().items():
        for line in lines:
            started = time.monotonic()
            result = runner.run(line)
            took = time.monotonic() - started
            worst = max(worst, took)
            if family not in RUNS_ALLOWED and not result.refused:
                allowed_in_strict.append((family, line))
            if found := _leaks(result):
                leaks.append((line, found))
            if took > KUBECTL_LIMIT_S + FILTER_LIMIT_S + 5:
                slow.append((line, round(took, 1)))
            assert "Traceback" not in result.observation, (line, result.observation[-600:])
            if result.exit_code == 124 and not result.refused:
                assert "stopped after" in result.observation or "timed out" in result.observation, result.observation
    assert not leaks, leaks
    assert not allowed_in_strict
    assert not slow, slow
    assert _digest(server) == before, "an attack line changed the served cluster"
    assert canary.exists() == canary_before
    assert not list(tmp_path.iterdir()), list(tmp_path.iterdir())
    print(f"worst line took {worst:.2f}s")


def test_filters_end_with_one_clear_line(served: tuple[SimServer, CommandRunner]) -> None:
    _, runner = served
    result = runner.run("kubectl get pods -A -o json | grep -E '(.*)(.*)(.*)(.*)(.*)\\5\\4\\3\\2\\1Z'")
    assert result.exit_code in (1, 124)
    big = runner.run("kubectl get pods -A -o json | jq '[.,.,.,.,.,.,.,.,.,.] | [.,.,.,.,.,.,.,.,.,.] | "
                     "[.,.,.,.,.,.,.,.,.,.] | [.,.,.,.,.,.,.,.,.,.]'")
    assert big.exit_code in (5, 124)  # the size check, or the time limit on a very loaded machine
    assert big.observation.count("\n") <= 2, big.observation
    assert "output larger than" in big.observation or "stopped after" in big.observation, big.observation


def test_values_are_masked_where_formats_drop_the_keys(served: tuple[SimServer, CommandRunner]) -> None:
    _, runner = served
    result = runner.run("kubectl get deploy api -n shop -o jsonpath='{.spec.template.spec.containers[0].env[*].value}'")
    assert result.exit_code == 0
    assert "[REDACTED]" in result.observation and not _leaks(result), result.observation
    logs = runner.run("kubectl logs deploy/api -n shop")
    assert "ready: listening on :8080" in logs.observation  # ordinary lines stay
    assert "connecting to db with [REDACTED] as app" in logs.observation, logs.observation

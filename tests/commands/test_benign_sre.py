"""The benign corpus (benign_sre.txt): ordinary SRE commands pass the policy, and masking keeps evidence.

At least 98% of the corpus must be allowed (the previously refused forms are in it: unquoted `[0]`,
`explain --recursive`, `-w=false`, awk/cut field programs, `2>&1`, raw watches with a timeout).
On the planted scenario, what an investigation needs stays readable: pod names, pod-template-hash
values, UIDs and images are never masked, while the planted credentials are.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlas_sre.commands import CommandConfig, CommandRunner, check_command_line
from atlas_sre.commands.policy import Refusal
from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.engine import derive

from .planted import API_IMAGE, spec

BENIGN_SRE = [line for line in (Path(__file__).parent / "benign_sre.txt").read_text().split("\n")
              if line.strip() and not line.startswith("#")]
kubectl_only = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")


def test_benign_corpus_is_allowed() -> None:
    assert len(BENIGN_SRE) >= 100
    refused = [(line, d.reason) for line in BENIGN_SRE if isinstance(d := check_command_line(line), Refusal)]
    assert len(refused) <= 0.02 * len(BENIGN_SRE), refused


@pytest.mark.parametrize("line", [
    "kubectl get pods -n shop --sort-by=.status.containerStatuses[0].restartCount",
    "kubectl get pods -o custom-columns=N:.metadata.name,R:.status.containerStatuses[0].restartCount",
    "kubectl explain deployment --recursive",
    "kubectl get pods -w=false",
    "kubectl get pods | awk '{print $1}'",
    "kubectl get pods | cut -d' ' -f1",
    "kubectl get pods 2>&1",
    "kubectl get --raw '/api/v1/watch/pods?timeoutSeconds=5'",
])
def test_former_false_refusals_pass(line: str) -> None:
    assert not isinstance(check_command_line(line), Refusal)


@pytest.mark.parametrize(("line", "why"), [
    ("kubectl get --raw /api/v1/watch/pods", "timeoutSeconds"),
    ("kubectl get --raw '/api/v1/pods?watch=true&timeoutSeconds=0'", "timeoutSeconds"),
    ("kubectl get --raw /api/v1/watch/pods --request-timeout=0", "timeoutSeconds"),
    ("kubectl get pods -w=true", "watches never end"),
    ("kubectl get pods --recursive", "only allowed with `kubectl explain`"),
    ("kubectl get pods | awk '{system(\"id\")}'", "print and printf"),
    ("kubectl get pods | grep x 2>&1", "first command"),
    ("kubectl get pods 2>/dev/null", "redirection"),
])
def test_near_misses_are_refused_with_a_reason(line: str, why: str) -> None:
    decision = check_command_line(line)
    assert isinstance(decision, Refusal) and why in decision.reason, decision


@pytest.fixture(scope="module")
def runner() -> Iterator[tuple[SimServer, CommandRunner]]:
    with SimServer(derive(spec()), namespace="shop") as server, CommandRunner(CommandConfig(
        kubeconfig=server.kubeconfig_path, timeout_s=20, filter_timeout_s=3, learn_ttl_s=3600,
    )) as r:
        yield server, r


@kubectl_only
def test_evidence_is_never_masked(runner: tuple[SimServer, CommandRunner]) -> None:
    server, r = runner
    pods = [o for o in server.state.objects if o.get("kind") == "Pod" and o["metadata"]["namespace"] == "shop"]
    evidence = [p["metadata"]["name"] for p in pods] + [p["metadata"]["uid"] for p in pods]
    evidence += [p["metadata"]["labels"]["pod-template-hash"] for p in pods] + [API_IMAGE]
    seen = ""
    for line in ("kubectl get pods -n shop -o yaml", "kubectl get pods -n shop -o wide --show-labels",
                 "kubectl describe pod -n shop -l app=api",
                 "kubectl get pods -n shop -o custom-columns="
                 "N:.metadata.name,U:.metadata.uid,I:.spec.containers[0].image"):
        result = r.run(line)
        assert result.exit_code == 0, result.observation
        seen += result.observation
    missing = [word for word in evidence if word not in seen]
    assert not missing, missing


@kubectl_only
def test_awk_cut_and_merged_stderr_on_the_cluster(runner: tuple[SimServer, CommandRunner]) -> None:
    _, r = runner
    names = r.run("kubectl get pods -n shop --no-headers | awk '{print $1}'").observation.split()
    assert names and all(n.startswith(("api-", "backup-")) for n in names), names
    assert r.run("kubectl get pods -n shop -o name | cut -d/ -f2").observation.split() == names
    merged = r.run("kubectl get pods nope -n shop 2>&1 | grep -c NotFound")
    assert merged.observation.strip() == "1", merged.observation
    watch = r.run("kubectl get --raw '/api/v1/watch/namespaces/shop/pods?timeoutSeconds=1'")
    assert not watch.refused and not watch.timed_out
    events = [json.loads(line) for line in watch.observation.splitlines() if line.startswith("{")]
    assert events and events[0]["type"] == "ADDED", watch.observation[:300]

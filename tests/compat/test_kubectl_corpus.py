"""Real kubectl v1.32 runs every command of `corpus.yaml` against its served scenario.

One test per entry (the id is the entry's name), so a failure names the command, the feature it
waits for, and every way the output differs from a real cluster's. The selected entries' commands
run a few at a time in the background (most of a kubectl run is waiting: process start, watches
held to their timeout), and each test waits for its own.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from compat_corpus import Entry, load_corpus, problems, resolve
from compat_serving import FEATURE_PROPERTY, Clusters
from kubectl_env import KUBECTL

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")]
SCENARIOS, ENTRIES = load_corpus()
MIN_ENTRIES = 150
WORKERS = 4
Outcome = tuple[list[str], subprocess.CompletedProcess[str]]


def test_corpus_is_large_and_covers_every_scenario() -> None:
    assert len(ENTRIES) >= MIN_ENTRIES
    assert set(SCENARIOS) == {e.scenario for e in ENTRIES}
    verbs = Counter(e.argv[0] for e in ENTRIES)
    for verb in ("get", "describe", "logs", "top", "events", "auth", "explain", "rollout", "wait",
                 "api-resources", "api-versions", "version", "cluster-info"):
        assert verbs[verb], f"no corpus entry runs kubectl {verb}"


def run_entry(entry: Entry, clusters: Clusters) -> Outcome:
    served = clusters.get(SCENARIOS[entry.scenario])
    argv = [resolve(a, served.state) for a in entry.argv]
    return argv, served.kubectl(*argv, timeout=entry.timeout)


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, clusters: Clusters) -> Iterator[dict[str, Future[Outcome]]]:
    """Start every selected entry's kubectl (servers first, one thread each would race to start them)."""
    selected = [item.callspec.params["entry"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_kubectl_entry"]
    for alias in sorted({e.scenario for e in selected}):
        clusters.get(SCENARIOS[alias])
    with ThreadPoolExecutor(WORKERS) as pool:
        yield {e.name: pool.submit(run_entry, e, clusters) for e in selected}
        pool.shutdown(cancel_futures=True)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_kubectl_entry(entry: Entry, clusters: Clusters, outcomes: dict[str, Future[Outcome]],
                       record_property: Any) -> None:
    if entry.feature:
        record_property(FEATURE_PROPERTY, entry.feature)
    argv, result = outcomes[entry.name].result()
    found = problems(entry, result, clusters.get(SCENARIOS[entry.scenario]).state)
    assert not found, (
        f"{entry.label}: kubectl {' '.join(argv)}\n  - " + "\n  - ".join(found)
        + f"\n--- exit {result.returncode}; stdout (first 1500 chars):\n{result.stdout[:1500]}"
        + f"\n--- stderr (first 800 chars):\n{result.stderr[:800]}")

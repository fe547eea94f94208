"""`Check`, the base every analyzer subclasses: one line of declaration, the check as a generator."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer_objects import istio, snap

from atlas_sre.analyzers import ANALYZERS, Analyzer, Level
from atlas_sre.analyzers.base import Check, Finding
from atlas_sre.analyzers.k8s import spec
from atlas_sre.analyzers.snapshot import Obj, Snapshot


class RetryStorm(Check, name="retry-storm", codes=("ATL999",), kind="VirtualService"):
    """The README's example analyzer."""

    def check(self, snap: Snapshot, vs: Obj) -> Iterator[Finding]:
        for i, rule in enumerate(spec(vs).get("http") or []):
            attempts = (rule.get("retries") or {}).get("attempts", 0)
            if attempts > 10:
                yield self.finding("ATL999", Level.WARNING, vs, f"http route[{i}] retries {attempts} times.")


def test_a_check_runs_once_per_object_of_its_kind_and_names_itself() -> None:
    calm = istio("VirtualService", "calm", {"hosts": ["a"], "http": [{"retries": {"attempts": 2}}]})
    storm = istio("VirtualService", "storm", {"hosts": ["b"], "http": [{}, {"retries": {"attempts": 50}}]})
    found = RetryStorm().analyze(snap(calm, storm))
    assert [(f.analyzer, f.code, f.resource.entity, f.message) for f in found] == [
        ("retry-storm", "ATL999", "shop/VirtualService/storm", "http route[1] retries 50 times.")
    ]
    assert isinstance(RetryStorm(), Analyzer)
    assert (RetryStorm.name, RetryStorm.codes, RetryStorm.kind) == ("retry-storm", ("ATL999",), "VirtualService")


def test_every_registered_analyzer_is_a_check() -> None:
    assert all(isinstance(a, Check) for a in ANALYZERS.values())

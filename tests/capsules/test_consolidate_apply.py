"""Application helpers, and the whole loop on the real protocol: learn on one incident, apply on the next."""

from __future__ import annotations

from pathlib import Path

import pytest
from capsule_corpus import CAPSULES
from test_consolidate_episodes import crash_record, mesh_record

from atlas_sre.capsules import CapsuleRetriever, CapsuleStore
from atlas_sre.capsules.apply import applied_ids, capsules_for_incident, render_command, render_for_plan
from atlas_sre.capsules.consolidate import consolidate, consolidate_all


@pytest.fixture
def store(tmp_path: Path) -> CapsuleStore:
    with CapsuleStore(tmp_path / "capsules.sqlite") as s:
        s.upsert_many(CAPSULES)
        consolidate(s, mesh_record())
        consolidate(s, crash_record())
        yield s


def test_capsules_for_incident_and_plan_block(store: CapsuleStore) -> None:
    incident = "orders return 503 errors; HighRequestErrorRate"
    applied = capsules_for_incident(CapsuleRetriever(store), incident, k=2)
    assert len(applied) == 2 and applied[0].capsule.skill == "destinationrule_misconfiguration_debug"
    assert "HighRequestErrorRate" in applied[0].why
    assert applied_ids(applied) == [a.capsule.id for a in applied]
    block = render_for_plan(applied, namespace="orders")
    lines = block.splitlines()
    assert lines[1] == "1. destinationrule_misconfiguration_debug (not used yet, provisional)"
    assert "   - kubectl logs <workload> -n orders -c istio-proxy --tail=100" in lines
    assert "   - kubectl get destinationrules -n orders -o yaml" in lines
    assert "   Proof: 503 NC cluster_not_found" in lines
    assert "{namespace}" not in block
    assert render_for_plan([]) == ""


def test_render_command_fills_known_and_marks_unknown() -> None:
    assert render_command("kubectl describe pod {workload} -n {namespace}", namespace="shop") == \
        "kubectl describe pod <workload> -n shop"
    assert render_command("kubectl get endpoints {service}", service="cart") == "kubectl get endpoints cart"


def test_learn_from_the_real_protocol_then_retrieve(tmp_path: Path) -> None:
    """The protocol room's real output shape (result + trace records) consolidates into a capsule."""
    from atlas_sre.protocol import atlas as atlas_mod
    atlas = atlas_mod.ATLASInference()
    result = atlas.run_full_protocol(scenario="mesh-subset-missing")  # built-in scenario
    with CapsuleStore(tmp_path / "c.sqlite") as s:
        learnt = consolidate_all(s, {"result": result, "records": atlas.trace_records()})
        if not (result.get("grades") or {}).get("guided", {}).get("correct"):
            assert learnt == []
            return
        roots = {e["name"].split("/")[1] for e in result["guided_diagnosis"]["entities"]}
        assert {c.root_cause.kind for c in learnt if c.root_cause} == roots
        for c in learnt:
            assert c.source == "teacher_correction" and c.commands and c.evidence
            assert "shop" not in " ".join(c.commands) and "reviews" not in c.trigger + str(c.evidence)
        hits = CapsuleRetriever(s).retrieve("HTTP 503 errors on the storefront for part of the requests")
        assert hits and hits[0].capsule.id in {c.id for c in learnt}

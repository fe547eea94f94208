"""Each fault, simulated: its signature (event, Envoy flag in the right proxy's log, alert) shows."""

from __future__ import annotations

import pytest
from signature import built_scenario, derive_pair, library_scenario, signature_problems, target_owners

from atlas_sre.scenarios.faults import fault_ids

# Faults the library cannot hold yet because of a known engine gap (the reason says which).
ENGINE_GAPS: dict[str, str] = {}


@pytest.mark.parametrize("fault_id", fault_ids())
def test_fault_shows_its_signature(fault_id: str) -> None:
    scenario = library_scenario(fault_id) or built_scenario(fault_id)
    if scenario is None:
        if fault_id in ENGINE_GAPS:
            pytest.xfail(ENGINE_GAPS[fault_id])
        pytest.fail(f"no app and target make {fault_id} pass the readiness gate")
    state, delta = derive_pair(scenario)
    assert signature_problems(fault_id, state, delta, target_owners(scenario)) == []


def test_signature_check_can_fail() -> None:
    """A healthy cluster shows no fault's signature: the check is not vacuous."""
    scenario = library_scenario("mismatched-host-istio-gateway")
    assert scenario is not None
    from atlas_sre.scenarios.readiness import without_faults

    state, delta = derive_pair(without_faults(scenario))
    assert signature_problems("mismatched-host-istio-gateway", state, delta) != []

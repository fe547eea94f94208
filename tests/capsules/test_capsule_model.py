"""Capsule model: seed compatibility, stable ids, Beta statistics (hand-computed), templates, evidence."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from pydantic import ValidationError

from atlas_sre.capsules import IMPORT_PRIOR_STRENGTH, BetaPosterior, Capsule, capsule_id
from atlas_sre.capsules.stats import difference_z

SEED = {"skill": "service_mesh_debug", "trigger": "503 errors in Kubernetes",
        "procedure": ["istioctl analyze", "check virtualservice configuration", "verify destination rules",
                      "validate mTLS policies"], "success_rate": 0.88}


def test_seed_success_rate_becomes_prior_pseudo_counts():
    c = Capsule.model_validate(SEED)
    assert IMPORT_PRIOR_STRENGTH == 10
    assert (c.prior_alpha, c.prior_beta) == (8.8, 1.2)
    assert (c.uses, c.successes, c.failures) == (0, 0, 0)  # counts stay honest
    assert c.success_rate == pytest.approx(0.88, abs=1e-12)
    assert c.model_dump(mode="json")["success_rate"] == 0.88


def test_beta_posterior_hand_computed():
    # Default prior Beta(1, 1); 7 successes, 2 failures (and one use with unknown outcome).
    c = Capsule(skill="s", trigger="t", procedure=["p"], uses=10, successes=7, failures=2)
    assert Fraction(c.success_rate).limit_denominator(1000) == Fraction(8, 11)
    post = c.posterior
    assert (post.alpha, post.beta) == (8.0, 3.0)
    assert post.variance == pytest.approx(8 * 3 / (11**2 * 12), rel=1e-12)  # = 24/1452
    assert post.lower_bound(1.0) == pytest.approx(8 / 11 - math.sqrt(24 / 1452), rel=1e-12)
    # Seed prior Beta(8.8, 1.2) after one success and one failure: 9.8 / 12.
    seeded = Capsule.model_validate({**SEED, "uses": 2, "successes": 1, "failures": 1})
    assert seeded.success_rate == 2 / 4  # counts given -> success_rate ignored, Beta(1+1, 1+1) ...
    seeded = Capsule.model_validate(SEED).model_copy(update={"uses": 2, "successes": 1, "failures": 1})
    assert seeded.success_rate == pytest.approx(9.8 / 12, rel=1e-12)  # ... prior + counts otherwise
    assert Capsule(skill="s", trigger="t", procedure=["p"]).success_rate == 0.5


def test_counts_given_with_success_rate_keep_the_default_prior():
    c = Capsule.model_validate({**SEED, "uses": 4, "successes": 3, "failures": 1})
    assert (c.prior_alpha, c.prior_beta) == (1.0, 1.0)
    assert c.success_rate == pytest.approx(4 / 6)


def test_difference_z_sign_and_scale():
    good, bad = BetaPosterior.from_counts(18, 2), BetaPosterior.from_counts(10, 10)
    z = difference_z(good, bad)
    expected = (19 / 22 - 11 / 22) / math.sqrt(good.variance + bad.variance)
    assert z == pytest.approx(expected) and z > 2
    assert difference_z(bad, good) == pytest.approx(-expected)
    with pytest.raises(ValueError):
        BetaPosterior(0, 0)


def test_id_is_stable_and_derived_from_skill_and_normalised_procedure():
    a = Capsule.model_validate(SEED)
    b = Capsule.model_validate({**SEED, "skill": " Service_Mesh_Debug ", "trigger": "another trigger",
                                "procedure": ["istioctl  analyze.", "Check VirtualService configuration",
                                              "verify destination rules", "validate mTLS policies"]})
    assert a.id == b.id == capsule_id(SEED["skill"], SEED["procedure"])
    assert a.id.startswith("cap-") and len(a.id) == 20
    assert Capsule.model_validate({**SEED, "procedure": ["istioctl analyze"]}).id != a.id
    assert Capsule.model_validate({**SEED, "id": "custom-1"}).id == "custom-1"


def test_validation_rejects_inconsistent_capsules():
    with pytest.raises(ValidationError):
        Capsule.model_validate({**SEED, "success_rate": 1.5})
    with pytest.raises(ValidationError):
        Capsule(skill="s", trigger="t", procedure=["p"], uses=1, successes=1, failures=1)
    with pytest.raises(ValidationError):
        Capsule(skill="s", trigger="t", procedure=[])
    with pytest.raises(ValidationError, match="placeholder"):
        Capsule(skill="s", trigger="t", procedure=["p"], commands=["kubectl get pod {pod}"])
    with pytest.raises(ValidationError):
        Capsule(skill="s", trigger="t", procedure=["p"], evidence=[{"pattern": "(", "regex": True}])


def test_render_commands_and_evidence_matching():
    c = Capsule(skill="s", trigger="t", procedure=["p"],
                commands=["kubectl -n {namespace} get svc {service} -o yaml", "istioctl analyze -n {namespace}"],
                evidence=["no healthy upstream", {"pattern": r"\b503\b.*\bUH\b", "regex": True}])
    assert c.render_commands(namespace="shop", service="checkout") == [
        "kubectl -n shop get svc checkout -o yaml", "istioctl analyze -n shop"]
    with pytest.raises(ValueError, match="service"):
        c.render_commands(namespace="shop")
    out = '[2024] "GET / HTTP/1.1" 503 UH no_healthy_upstream - "No Healthy Upstream"'
    assert [e.pattern for e in c.matching_evidence(out)] == ["no healthy upstream", r"\b503\b.*\bUH\b"]
    assert c.matching_evidence("200 OK") == []


def test_deltas_are_running_means_from_sums():
    c = Capsule(skill="s", trigger="t", procedure=["p"], tokens_delta_sum=-300.0, tokens_delta_n=4,
                time_delta_sum=12.0, time_delta_n=3)
    assert (c.tokens_delta_mean, c.time_delta_mean) == (-75.0, 4.0)
    assert Capsule(skill="s", trigger="t", procedure=["p"]).tokens_delta_mean is None

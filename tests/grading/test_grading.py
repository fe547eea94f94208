"""Deterministic grading: every expected number is worked out by hand in the comment beside it."""

from __future__ import annotations

import itertools
from fractions import Fraction
from math import comb

import pytest
from pydantic import BaseModel

from atlas_sre.grading import (
    Components,
    Diagnosis,
    Entity,
    GroundTruth,
    Propagation,
    Topology,
    category_matches,
    contract_path,
    grade,
    lcs_length,
    pass_at_k,
    propagation_f1,
    proximity,
    score_root_causes,
)

DR, VS = "shop/DestinationRule/reviews", "shop/VirtualService/reviews"
REVIEWS, PRODUCTPAGE, RATINGS = "shop/Service/reviews", "shop/Service/productpage", "shop/Service/ratings"
ISTIOD, COREDNS = "istio-system/Deployment/istiod", "kube-system/Pod/coredns-5d78c9869d-abcde"
A, B, C, D = "shop/Service/a", "shop/Service/b", "shop/Service/c", "shop/Service/d"


# --- root causes -------------------------------------------------------------------------------


def test_exact_single_root_cause() -> None:
    s = score_root_causes([DR], [DR])
    assert (s.precision, s.recall, s.f1, s.strict) == (1.0, 1.0, 1.0, 1.0)
    assert (s.matched, s.missed, s.extra) == ([DR], [], [])


def test_alias_member_counts_as_the_true_root_cause() -> None:
    s = score_root_causes([VS], [DR], aliases=[[DR, VS]])
    assert (s.precision, s.recall, s.strict) == (1.0, 1.0, 1.0)
    assert score_root_causes([VS], [DR]).recall == 0.0  # without the alias group it is a miss


def test_alias_duplicates_count_once() -> None:
    # predicted components: {DR~VS, productpage} -> 2; found 1 -> P = 1/2, R = 1/1
    # F1 = 2 * 0.5 * 1 / 1.5 = 2/3; strict = P = 0.5 (nothing missed)
    s = score_root_causes([DR, VS, PRODUCTPAGE], [DR], aliases=[[DR, VS]])
    assert s.precision == pytest.approx(0.5)
    assert s.recall == pytest.approx(1.0)
    assert s.f1 == pytest.approx(2 / 3)
    assert s.strict == pytest.approx(0.5)
    assert s.extra == [PRODUCTPAGE]


def test_two_aliased_truth_entries_are_one_cause() -> None:
    # truth components: {DR~VS} -> 1; predicting VS finds it -> R = 1/1
    s = score_root_causes([VS], [DR, VS], aliases=[[DR, VS]])
    assert (s.recall, s.missed) == (1.0, [])


def test_alias_groups_sharing_a_member_merge() -> None:
    # [a, b] and [b, c] -> one component {a, b, c}: predicting c finds a
    assert score_root_causes([C], [A], aliases=[[A, B], [B, C]]).recall == 1.0
    assert Components([[A, B], [B, C]]).of(C) == Components([[A, B]]).of(A)


def test_kind_spelling_and_case_do_not_matter() -> None:
    assert score_root_causes(["Shop/dr/Reviews"], [DR]).recall == 1.0


def test_multi_root_partial() -> None:
    # truth {a, b, c}, predicted {a, b, d}: TP = 2 -> P = 2/3, R = 2/3, F1 = 2/3
    # c missed -> strict = 0
    s = score_root_causes([A, B, D], [A, B, C])
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 / 3)
    assert s.strict == 0.0
    assert (s.matched, s.missed, s.extra) == ([A, B], [C], [D])


def test_multi_root_all_found_with_extras() -> None:
    # truth {a, b}, predicted {a, b, c, d}: P = 2/4 = 0.5, R = 1, F1 = 2*0.5*1/1.5 = 2/3, strict = 0.5
    s = score_root_causes([A, B, C, D], [A, B])
    assert (s.precision, s.recall, s.strict) == (0.5, 1.0, 0.5)
    assert s.f1 == pytest.approx(2 / 3)


def test_empty_answer_on_a_fault_scores_zero() -> None:
    s = score_root_causes([], [A])
    assert (s.precision, s.recall, s.f1, s.strict) == (0.0, 0.0, 0.0, 0.0)
    assert s.missed == [A]


def test_infra_namespaces_are_filtered_from_predictions() -> None:
    # istiod and coredns dropped -> predicted {checkout} -> P = 1/1
    s = score_root_causes([A, ISTIOD, COREDNS], [A])
    assert (s.precision, s.strict, s.extra) == (1.0, 1.0, [])
    # filter switched off: predicted {a, istiod, coredns} -> P = 1/3, strict = 1/3
    off = score_root_causes([A, ISTIOD, COREDNS], [A], infra_namespaces=())
    assert off.precision == pytest.approx(1 / 3)
    assert off.strict == pytest.approx(1 / 3)
    assert off.extra == [ISTIOD, COREDNS]


def test_infra_namespace_named_by_truth_is_scored() -> None:
    gateway = "istio-system/Gateway/shop-gateway"
    # truth lives in istio-system -> istiod is kept as a wrong guess: P = 1/2, R = 1
    s = score_root_causes([gateway, ISTIOD], [gateway])
    assert (s.precision, s.recall, s.extra) == (0.5, 1.0, [ISTIOD])
    # an alias in istio-system also exempts that namespace: the ingress Deployment is the root cause
    ingress = "istio-system/Deployment/istio-ingressgateway"
    s = score_root_causes([ingress], ["shop/Gateway/shop-gateway"],
                          aliases=[["shop/Gateway/shop-gateway", ingress]])
    assert (s.precision, s.recall) == (1.0, 1.0)


def test_no_fault_control() -> None:
    empty = score_root_causes([], [])
    assert (empty.precision, empty.recall, empty.f1, empty.strict) == (1.0, 1.0, 1.0, 1.0)
    wrong = score_root_causes([A], [])
    assert (wrong.precision, wrong.recall, wrong.f1, wrong.strict) == (0.0, 0.0, 0.0, 0.0)
    assert wrong.extra == [A]
    # only infra noise named: filtered away, so the answer is empty -> 1.0
    assert score_root_causes([ISTIOD], []).strict == 1.0


# --- category ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("predicted", "truth", "expected"),
    [
        ("misconfiguration", "Misconfiguration", True),
        ("Resource_Saturation", "resource saturation", True),
        ("resource-saturation", "Resource Saturation", True),
        ("Network", "Misconfiguration", False),
        ("Network", ["Misconfiguration", "Network"], True),  # multi-root: any true category
        ("", "Misconfiguration", False),
        ("", [], True),  # no-fault control: "no category" is right
        ("No Fault", [], True),
        ("none", [], True),
        ("Misconfiguration", [], False),
    ],
)
def test_category_matches(predicted: str, truth: str | list[str], expected: bool) -> None:
    assert category_matches(predicted, truth) is expected


# --- propagation chain -------------------------------------------------------------------------


def test_lcs_length_classic() -> None:
    # ABCBDAB vs BDCABA: LCS "BCBA" -> 4
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4
    assert lcs_length([], ["x"]) == 0


def test_contract_path_collapses_repeats_and_aliases() -> None:
    comps = Components([[DR, VS]])
    # DR->VS is one component, so DR, VS, reviews -> [dr, reviews]
    path = contract_path([(DR, VS), (VS, REVIEWS), (REVIEWS, PRODUCTPAGE)], comps)
    assert path == [comps.of(DR), comps.of(REVIEWS), comps.of(PRODUCTPAGE)]
    assert len(path) == 3


def test_propagation_skipped_hop() -> None:
    # truth a->b->c->d: path [a,b,c,d] (4); predicted a->c->d: [a,c,d] (3); LCS = 3
    # P = 3/3 = 1, R = 3/4, F1 = 2*1*0.75/1.75 = 6/7
    truth = [(A, B), (B, C), (C, D)]
    assert propagation_f1([(A, C), (C, D)], truth) == pytest.approx(6 / 7)


def test_propagation_reversed_chain() -> None:
    # predicted d->c->b->a vs truth a->b->c->d: LCS = 1 -> P = R = 1/4 -> F1 = 1/4
    truth = [(A, B), (B, C), (C, D)]
    assert propagation_f1([(D, C), (C, B), (B, A)], truth) == pytest.approx(0.25)


def test_propagation_alias_spelling_is_free() -> None:
    # predicted VS->reviews->productpage contracts to the same [dr, reviews, productpage] as truth
    truth = [(DR, REVIEWS), (REVIEWS, PRODUCTPAGE)]
    assert propagation_f1([(VS, REVIEWS), (REVIEWS, PRODUCTPAGE)], truth, aliases=[[DR, VS]]) == 1.0
    # without the alias: pred [vs, reviews, productpage] vs [dr, reviews, productpage]: LCS 2 -> F1 2/3
    assert propagation_f1([(VS, REVIEWS), (REVIEWS, PRODUCTPAGE)], truth) == pytest.approx(2 / 3)


def test_propagation_empty_sides() -> None:
    assert propagation_f1([], []) == 1.0
    assert propagation_f1([(A, B)], []) == 0.0
    assert propagation_f1([], [(A, B)]) == 0.0


# --- proximity ---------------------------------------------------------------------------------

EDGES = [(B, A), (B, C), (C, D), ("shop/Service/x", "shop/Service/y")]  # a-b-c-d, x-y apart


@pytest.mark.parametrize(
    ("predicted", "truth", "expected"),
    [
        ([A], [A], 1.0),  # h = 0
        ([C], [A], 1 / 3),  # c-b-a: h = 2 -> 1/3
        ([B, D], [A], (1 / 2 + 1 / 4) / 2),  # h = 1 and 3 -> mean 0.375
        (["shop/Service/x"], [A], 0.0),  # other island: unreachable
        (["shop/Service/zzz"], [A], 0.0),  # not in the graph at all
        ([C], [A, D], 0.5),  # nearest true root d is 1 hop away
        ([B, B], [A], 0.5),  # a repeated guess counts once
        ([], [A], 0.0),
        ([], [], 1.0),  # no-fault control, nothing claimed
        ([A], [], 0.0),
    ],
)
def test_proximity(predicted: list[str], truth: list[str], expected: float) -> None:
    assert proximity(predicted, truth, EDGES) == pytest.approx(expected)


def test_topology_is_undirected_and_alias_aware() -> None:
    graph = Topology([(A, B)], Components([[B, C]]))
    assert graph.hops(B, A) == graph.hops(A, B) == 1
    assert graph.hops(A, C) == 1  # c is b
    assert graph.hops(A, D) is None


# --- pass@k ------------------------------------------------------------------------------------


def _pass_at_k_brute(n: int, c: int, k: int) -> float:
    """Share of all k-subsets of n samples (the first c correct) that hold a correct one."""
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(i < c for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", range(1, 9))
def test_pass_at_k_matches_brute_force(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(_pass_at_k_brute(n, c, k), abs=1e-12)


def test_pass_at_k_hand_values() -> None:
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)  # c/n
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)  # 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(5, 0, 3) == 0.0
    assert pass_at_k(4, 2, 3) == 1.0  # n - c = 2 < k: every 3-subset has a correct one


def test_pass_at_k_is_stable_for_large_n() -> None:
    exact = 1 - Fraction(comb(900, 150), comb(1000, 150))
    assert pass_at_k(1000, 100, 150) == pytest.approx(float(exact), rel=1e-9)
    assert pass_at_k(1000, 1, 1) == pytest.approx(0.001)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, 1, 0), (3, 1, 4), (0, 0, 1), (3, -1, 1)])
def test_pass_at_k_rejects_impossible_arguments(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match="pass@k"):
        pass_at_k(n, c, k)


# --- ground truth and grade() ------------------------------------------------------------------

MESH_TRUTH = {
    "rootCauses": [{"entity": DR, "category": "Misconfiguration", "condition": "subset v3 undefined"}],
    "aliases": [[DR, VS]],
    "propagation": [
        {"source": DR, "target": REVIEWS, "effect": "503 NC"},
        {"source": REVIEWS, "target": PRODUCTPAGE, "effect": "503"},
    ],
}


def test_ground_truth_accepts_camel_and_snake_case() -> None:
    camel = GroundTruth.model_validate(MESH_TRUTH)
    snake = GroundTruth.model_validate({
        "root_causes": MESH_TRUTH["rootCauses"], "aliases": MESH_TRUTH["aliases"],
        "propagations": MESH_TRUTH["propagation"],
    })
    assert camel == snake
    assert camel.rootCauses[0].entity == DR and len(camel.propagation) == 2
    assert not camel.is_no_fault and GroundTruth().is_no_fault


def _mesh_answer() -> Diagnosis:
    return Diagnosis(
        entities=[
            Entity(name=VS, reasoning="routes to subset v3"),
            Entity(name=ISTIOD, reasoning="noise"),  # infra: filtered
            Entity(name=PRODUCTPAGE, contributing_factor=False),  # a symptom, not a claim
            Entity(name=RATINGS),  # wrong extra claim
        ],
        propagations=[Propagation(source=VS, target=REVIEWS),
                      Propagation(source=REVIEWS, target=PRODUCTPAGE)],
        category="misconfiguration",
    )


def test_grade_bundles_every_metric() -> None:
    g = grade(_mesh_answer(), MESH_TRUTH)
    # claims after filter: {VS~DR, ratings} -> P = 1/2, R = 1/1, F1 = 2/3, strict = 1/2
    assert (g.precision, g.recall, g.strict) == (0.5, 1.0, 0.5)
    assert g.f1 == pytest.approx(2 / 3)
    assert (g.correct, g.no_fault, g.category_match) == (True, False, True)
    assert (g.matched, g.missed, g.extra) == ([VS], [], [RATINGS])
    # chain [dr, reviews, productpage] on both sides -> 1.0
    assert g.propagation_f1 == 1.0
    # no topology: graph = truth hops; VS is the root (1.0), ratings is off the chain (0) -> 0.5
    assert g.proximity == pytest.approx(0.5)


def test_grade_with_a_topology_gives_near_misses_credit() -> None:
    topology = [(PRODUCTPAGE, REVIEWS), (REVIEWS, RATINGS), (REVIEWS, DR)]
    # ratings-reviews-dr: 2 hops -> 1/3; VS -> 1.0; mean (1 + 1/3)/2 = 2/3
    assert grade(_mesh_answer(), MESH_TRUTH, topology).proximity == pytest.approx(2 / 3)


def test_grade_missing_the_root_cause_is_incorrect() -> None:
    answer = Diagnosis(entities=[Entity(name=RATINGS)], category="Network")
    g = grade(answer, MESH_TRUTH)
    assert (g.precision, g.recall, g.strict, g.correct) == (0.0, 0.0, 0.0, False)
    assert (g.missed, g.category_match, g.propagation_f1) == ([DR], False, 0.0)


def test_grade_no_fault_control() -> None:
    control = GroundTruth()
    quiet = grade(Diagnosis(category="none", summary="all healthy"), control)
    assert (quiet.precision, quiet.recall, quiet.f1, quiet.strict) == (1.0, 1.0, 1.0, 1.0)
    assert (quiet.correct, quiet.no_fault, quiet.category_match) == (True, True, True)
    assert (quiet.propagation_f1, quiet.proximity) == (1.0, 1.0)
    loud = grade(Diagnosis(entities=[Entity(name=RATINGS)], category="Network"), control)
    assert (loud.precision, loud.recall, loud.f1, loud.strict) == (0.0, 0.0, 0.0, 0.0)
    assert (loud.correct, loud.category_match, loud.proximity, loud.extra) == (False, False, 0.0, [RATINGS])


def test_grade_leaves_unstated_truth_unscored() -> None:
    bare = {"rootCauses": [{"entity": A}]}  # no category, no chain given
    g = grade(Diagnosis(entities=[Entity(name=A)], propagations=[Propagation(source=A, target=B)]), bare)
    assert (g.category_match, g.propagation_f1, g.correct) == (None, None, True)


def test_grade_takes_another_rooms_truth_model() -> None:
    class Cause(BaseModel):
        entity: str
        category: str = "Misconfiguration"

    class ScenarioTruth(BaseModel):  # stands in for scenarios.model.GroundTruth
        rootCauses: list[Cause]
        aliases: list[list[str]] = []

    truth = ScenarioTruth(rootCauses=[Cause(entity=DR)], aliases=[[DR, VS]])
    g = grade(Diagnosis(entities=[Entity(name=VS)]), truth)
    assert (g.recall, g.correct) == (1.0, True)


def test_glob_alias_maps_generated_pod_names_to_their_workload() -> None:
    # truth: one root cause (the Deployment); a pod of it is named -> matched via the `checkout-*` pattern.
    from atlas_sre.grading.topology import Components

    aliases = [["shop/Deployment/checkout", "shop/Service/checkout", "shop/Pod/checkout-*"]]
    comps = Components(aliases)
    assert comps.of("shop/Pod/checkout-5f7d8c9b4-x2x9z") == comps.of("shop/Deployment/checkout")
    assert comps.of("shop/Pod/catalog-5f7d8c9b4-x2x9z") != comps.of("shop/Deployment/checkout")
    score = score_root_causes(["shop/Pod/checkout-5f7d8c9b4-x2x9z"], ["shop/Deployment/checkout"], aliases)
    assert (score.precision, score.recall) == (1.0, 1.0)

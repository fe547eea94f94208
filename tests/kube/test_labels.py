"""Selectors as objects store them: the two emptiness rules and the operator sets."""

from __future__ import annotations

from atlas_sre.kube.labels import (
    expression_matches,
    map_matches,
    selector_matches,
    selector_pairs,
    workload_selector_matches,
)

WEB = {"app": "web", "tier": "front"}


def test_empty_selectors_differ_by_rule() -> None:
    assert selector_matches(None, WEB) and selector_matches({}, WEB)  # NetworkPolicy: all pods
    assert not workload_selector_matches(None, WEB) and not workload_selector_matches({}, WEB)  # Service: none
    assert map_matches(None, WEB) and map_matches({}, WEB)


def test_label_selector_operators() -> None:
    sel = {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]},
                                                              {"key": "canary", "operator": "DoesNotExist"}]}
    assert selector_matches(sel, WEB) and workload_selector_matches(sel, WEB)
    assert not selector_matches(sel, {**WEB, "canary": "1"})
    # A LabelSelector has no Gt/Lt: selector_matches ignores them, node selectors evaluate them.
    gt = {"matchExpressions": [{"key": "rank", "operator": "Gt", "values": ["5"]}]}
    assert selector_matches(gt, {"rank": "1"}) and not workload_selector_matches(gt, {"rank": "1"})
    assert expression_matches(gt["matchExpressions"][0], {"rank": "7"})


def test_plain_maps_are_service_selectors() -> None:
    assert workload_selector_matches({"app": "web"}, WEB) and not workload_selector_matches({"app": "db"}, WEB)
    assert selector_pairs({"app": "web"}) == [("app", "web")]
    assert selector_pairs({"matchLabels": {"app": "web"},
                           "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}) == [
        ("app", "web"), ("tier", "front")]

"""Diagnosis schema, repair of trivial model mistakes, entity normalisation, Markdown rendering."""

from __future__ import annotations

import pytest

from atlas_sre.grading import (
    Diagnosis,
    DiagnosisError,
    Entity,
    Propagation,
    canonical_kind,
    normalize_entity,
    parse_diagnosis,
    render_markdown,
)

CLEAN = """{"entities": [{"name": "shop/DestinationRule/checkout", "contributing_factor": true,
  "reasoning": "subset v2 missing", "evidence": "kubectl get dr checkout -o yaml: no subset v2"}],
 "propagations": [{"source": "shop/Service/checkout", "target": "shop/Service/frontend",
  "condition": "no cluster for subset", "effect": "503"}],
 "category": "Misconfiguration", "summary": "DR lacks subset v2"}"""


def test_clean_json_parses_exactly() -> None:
    d = parse_diagnosis(CLEAN)
    assert d.root_causes == ["shop/DestinationRule/checkout"]
    assert d.entities[0].evidence == "kubectl get dr checkout -o yaml: no subset v2"
    assert d.propagations[0] == Propagation(
        source="shop/Service/checkout", target="shop/Service/frontend",
        condition="no cluster for subset", effect="503",
    )
    assert (d.category, d.summary) == ("Misconfiguration", "DR lacks subset v2")


def test_code_fence_and_surrounding_prose() -> None:
    text = (f"After checking the cluster, here's the answer:\n```json\n{CLEAN}\n```\n"
            "Let me know if {more} helps.")
    assert parse_diagnosis(text) == parse_diagnosis(CLEAN)


def test_last_diagnosis_object_wins_over_an_earlier_example() -> None:
    text = ('Format: {"entities": [{"name": "ns/Kind/name"}], "category": "X"}\n'
            'Answer: {"entities": [{"name": "shop/Service/cart"}], "category": "Network"}')
    d = parse_diagnosis(text)
    assert d.root_causes == ["shop/Service/cart"]
    assert d.category == "Network"


def test_trailing_commas_are_dropped() -> None:
    text = '{"entities": [{"name": "shop/Service/a", "contributing_factor": true,},], "category": "Network",}'
    d = parse_diagnosis(text)
    assert d.root_causes == ["shop/Service/a"]
    assert d.category == "Network"


def test_single_quotes_and_python_literals() -> None:
    text = ("{'entities': [{'name': 'shop/Service/a', 'contributing_factor': False, 'reasoning': None}],"
            " 'summary': 'say \"hi\"'}")
    d = parse_diagnosis(text)
    assert d.entities[0].contributing_factor is False
    assert d.entities[0].reasoning == ""
    assert d.summary == 'say "hi"'


def test_apostrophes_inside_double_quoted_text_survive_repair() -> None:
    # The trailing comma forces the repair pass; the apostrophe and comma-brace inside the string stay.
    text = """{"summary": "the pod's logs say ',}' twice", "category": "Other",}"""
    assert parse_diagnosis(text).summary == "the pod's logs say ',}' twice"


def test_wrapper_object_and_bare_string_entities() -> None:
    d = parse_diagnosis('{"diagnosis": {"entities": ["shop/Service/a"], "category": "Network"}}')
    assert d.entities == [Entity(name="shop/Service/a", contributing_factor=True)]


def test_missing_flag_means_contributing_and_string_flags_are_read() -> None:
    d = parse_diagnosis('{"entities": [{"name": "shop/Service/a"}, {"name": "shop/Service/b", '
                        '"contributing_factor": "false"}]}')
    assert d.root_causes == ["shop/Service/a"]


def test_missing_namespace_is_filled_from_default_for_namespaced_kinds() -> None:
    text = ('{"entities": [{"name": "svc/checkout"}, {"name": "Node/worker-1"}],'
            ' "propagations": [{"source": "dr/checkout", "target": "Service/frontend"}]}')
    d = parse_diagnosis(text, default_namespace="shop")
    assert d.root_causes == ["shop/Service/checkout", "Node/worker-1"]
    assert (d.propagations[0].source, d.propagations[0].target) == (
        "shop/DestinationRule/checkout", "shop/Service/frontend")


def test_without_default_namespace_kind_name_is_kept() -> None:
    d = parse_diagnosis('{"entities": [{"name": "deployment/checkout"}]}')
    assert d.root_causes == ["Deployment/checkout"]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("shop/deployment/checkout", "shop/Deployment/checkout"),
        ("shop/destinationrule/reviews", "shop/DestinationRule/reviews"),
        ("shop/dr/reviews", "shop/DestinationRule/reviews"),
        ("shop/svc/reviews", "shop/Service/reviews"),
        ("shop/vs/reviews", "shop/VirtualService/reviews"),
        ("shop/pa/default", "shop/PeerAuthentication/default"),
        ("shop/ap/deny-get", "shop/AuthorizationPolicy/deny-get"),
        ("shop/deployment.apps/checkout", "shop/Deployment/checkout"),
        ("shop/destinationrules.networking.istio.io/reviews", "shop/DestinationRule/reviews"),
        ("shop/networkpolicies/deny-all", "shop/NetworkPolicy/deny-all"),
        ("shop/VIRTUALSERVICE/reviews", "shop/VirtualService/reviews"),
        (" shop / Service / reviews ", "shop/Service/reviews"),
        ("Deployment/shop/checkout", "shop/Deployment/checkout"),  # Kind/ns/name order
        ("shop/Node/worker-1", "Node/worker-1"),  # a node has no namespace
        ("shop/ChaosThing/x", "shop/ChaosThing/x"),  # unknown kind: untouched
        ("just-a-name", "just-a-name"),
    ],
)
def test_normalize_entity(written: str, expected: str) -> None:
    assert normalize_entity(written) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Node/worker-1", "Node/worker-1"),
        ("namespace/shop", "Namespace/shop"),
        ("pv/data-1", "PersistentVolume/data-1"),
        ("clusterrole/view", "ClusterRole/view"),
        ("storageclass/standard", "StorageClass/standard"),
        ("deploy/checkout", "shop/Deployment/checkout"),
        ("shop/checkout", "shop/checkout"),  # no kind recognised: nothing to fill in
    ],
)
def test_default_namespace_never_lands_on_cluster_scoped_kinds(written: str, expected: str) -> None:
    assert normalize_entity(written, default_namespace="shop") == expected


def test_canonical_kind_tells_kinds_from_names() -> None:
    assert canonical_kind("hpa") == "HorizontalPodAutoscaler"
    assert canonical_kind("Services") == "Service"
    assert canonical_kind("checkout") is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "no JSON object found"),
        ("The checkout DestinationRule is wrong.", "no JSON object found"),
        ('{"entities": [{"name": "shop/Service/a"}', "not closed"),
        ('{"entities": [{"name": "shop/Service/a" "x": 1}]}', "could not be repaired"),
        ('{"foo": 1}', "no JSON object with"),
        ('{"entities": "shop/Service/a"}', "does not match the schema: entities"),
        ('{"entities": [{"reasoning": "no name"}]}', "entities.0.name"),
        ('{"entities": [{"name": "  "}]}', "entities.0.name"),
        ("{'summary': 'the pod's logs'}", "could not be repaired"),  # apostrophe: ambiguous quotes
    ],
)
def test_unrepairable_input_raises_one_line_diagnosis_error(text: str, fragment: str) -> None:
    with pytest.raises(DiagnosisError) as info:
        parse_diagnosis(text)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    assert info.value.__cause__ is None  # no JSONDecodeError / ValidationError chained in


def test_render_markdown_shows_causes_evidence_chain_category_summary() -> None:
    d = Diagnosis(
        entities=[
            Entity(name="shop/DestinationRule/reviews", reasoning="subset v3 undefined",
                   evidence="kubectl get dr reviews -o yaml"),
            Entity(name="shop/Service/productpage", contributing_factor=False, reasoning="symptom"),
        ],
        propagations=[
            Propagation(source="shop/DestinationRule/reviews", target="shop/Service/reviews",
                        effect="503 NC"),
            Propagation(source="shop/Service/reviews", target="shop/Service/productpage",
                        condition="deps fail"),
        ],
        category="Misconfiguration",
        summary="VirtualService routes to a subset the DestinationRule lacks.",
    )
    md = render_markdown(d)
    assert "- `shop/DestinationRule/reviews`: subset v3 undefined" in md
    assert "  - evidence: kubectl get dr reviews -o yaml" in md
    assert "### Other entities" in md and "`shop/Service/productpage`: symptom" in md
    assert ("- `shop/DestinationRule/reviews` → `shop/Service/reviews` → `shop/Service/productpage`"
            in md)
    assert "effect: 503 NC" in md and "deps fail" in md
    assert "**Category:** Misconfiguration" in md
    assert md.rstrip().endswith("VirtualService routes to a subset the DestinationRule lacks.")


def test_render_markdown_of_an_empty_answer_says_no_fault() -> None:
    md = render_markdown(Diagnosis())
    assert "none: no fault found" in md
    assert "### Propagation" not in md

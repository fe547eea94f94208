"""Label and field selectors: the grammar kubectl sends and the API server's matching rules."""

from __future__ import annotations

import pytest

from atlas_sre.kube.selectors import (
    SelectorError,
    compile_selectors,
    field_value,
    match_fields,
    match_labels,
    parse_field_selector,
    parse_label_selector,
)


def obj(labels: dict[str, str] | None = None, **fields: object) -> dict:
    return {"metadata": {"name": "p", "namespace": "shop", "labels": labels or {}}, **fields}


WEB = obj({"app": "web", "tier": "front", "replicas": "3"})
DB = obj({"app": "db"})


@pytest.mark.parametrize(
    ("selector", "web", "db"),
    [
        ("app=web", True, False),
        ("app==web", True, False),
        ("app!=web", False, True),
        ("tier!=back", True, True),  # != also matches objects without the key
        ("app in (web, api)", True, False),
        ("app notin (web)", False, True),
        ("tier notin (front)", False, True),  # missing key satisfies notin
        ("tier", True, False),
        ("!tier", False, True),
        ("app=web,tier=front", True, False),
        ("app in (web,db),!tier", False, True),
        ("replicas>2", True, False),
        ("replicas<2", False, False),
        ("", True, True),
    ],
)
def test_label_selector_matches_like_the_api_server(selector: str, web: bool, db: bool) -> None:
    reqs = parse_label_selector(selector)
    assert match_labels(reqs, WEB) is web
    assert match_labels(reqs, DB) is db


def test_set_values_keep_commas_inside_parentheses() -> None:
    reqs = parse_label_selector("app in (a,b,c),tier=x")
    assert [(r.key, r.op, r.values) for r in reqs] == [("app", "in", ("a", "b", "c")), ("tier", "=", ("x",))]


@pytest.mark.parametrize("bad", ["app in (web", "a b", "app=web=x", "=web", "app=we b", "!", "x>abc"])
def test_bad_label_selector_raises_a_readable_error(bad: str) -> None:
    with pytest.raises(SelectorError, match="unable to parse requirement"):
        parse_label_selector(bad)


def test_prefixed_label_keys_are_valid() -> None:
    reqs = parse_label_selector("kubernetes.io/service-name=web,app.kubernetes.io/name")
    labels = {"metadata": {"labels": {"kubernetes.io/service-name": "web", "app.kubernetes.io/name": "x"}}}
    assert match_labels(reqs, labels)


EVENT = {
    "metadata": {"name": "web.1", "namespace": "shop"},
    "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop", "uid": "u-1"},
    "reason": "BackOff",
    "type": "Warning",
    "source": {"component": "kubelet"},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("involvedObject.name=web-1,involvedObject.namespace=shop,involvedObject.uid=u-1", True),
        ("involvedObject.kind=Deployment", False),
        ("type=Warning", True),
        ("type!=Warning", False),
        ("type==Normal", False),
        ("reason=BackOff", True),
        ("source=kubelet", True),  # the API's alias for source.component
        ("metadata.name=web.1", True),
        ("metadata.namespace!=other", True),
        ("spec.nodeName=", True),  # a missing field compares as ""
    ],
)
def test_field_selector_on_events(selector: str, expected: bool) -> None:
    assert match_fields(parse_field_selector(selector), EVENT) is expected


def test_field_values_render_like_the_api() -> None:
    pod = {"spec": {"nodeName": "n1", "unschedulable": True, "replicas": 3}, "status": {"phase": "Running"}}
    assert field_value(pod, "status.phase") == "Running"
    assert field_value(pod, "spec.unschedulable") == "true"
    assert field_value(pod, "spec.replicas") == "3"
    assert field_value(pod, "spec.missing.deeper") == ""


def test_escaped_commas_and_equals_in_field_values() -> None:
    reqs = parse_field_selector(r"metadata.name=a\,b\=c")
    assert [(r.field, r.value) for r in reqs] == [("metadata.name", "a,b=c")]


@pytest.mark.parametrize("bad", ["status.phase", "=Running", "not a field=x"])
def test_bad_field_selector_raises(bad: str) -> None:
    with pytest.raises(SelectorError):
        parse_field_selector(bad)


def test_compiled_predicate_needs_both_selectors() -> None:
    keep = compile_selectors("app=web", "metadata.namespace=shop")
    assert keep(WEB) and not keep(DB)
    assert not compile_selectors("app=web", "metadata.namespace=other")(WEB)
    assert compile_selectors(None, None)(DB)

"""The result shape, the registry/runner and the istioctl-style rendering."""

from __future__ import annotations

import json

import pytest
from analyzer_objects import healthy_mesh, snap

from atlas_sre.analyzers import (
    ANALYZERS,
    FOUND_ISSUES_EXIT_CODE,
    Finding,
    Level,
    Resource,
    all_codes,
    analyzer_names,
    exit_code,
    get_analyzers,
    render_json,
    render_text,
    run_analyzers,
)
from atlas_sre.analyzers.accesslog import parse_line, percentile


def _f(
    code: str,
    level: Level,
    kind: str = "VirtualService",
    name: str = "reviews",
    ns: str | None = "shop",
    message: str = "m",
) -> Finding:
    return Finding(code, level, Resource(kind, name, ns), message, "test")


def test_finding_line_matches_istioctl_format() -> None:
    f = _f(
        "IST0101", Level.ERROR, message='Referenced host+subset in destinationrule not found: "reviews+v3"'
    )
    assert f.line == (
        "Error [IST0101] (VirtualService shop/reviews) Referenced host+subset in destinationrule "
        'not found: "reviews+v3"'
    )
    assert f.resource.entity == "shop/VirtualService/reviews"
    assert Resource("Namespace", "shop").origin == "Namespace shop"
    assert Resource("Namespace", "shop").scope == "shop"
    assert Resource("Node", "worker-1").entity == "Node/worker-1"


def test_resource_of_drops_namespace_for_cluster_scoped_kinds() -> None:
    assert Resource.of({"kind": "Node", "metadata": {"name": "n1", "namespace": "x"}}) == Resource(
        "Node", "n1"
    )
    assert Resource.of({"kind": "Pod", "metadata": {"name": "p", "namespace": "a"}}).entity == "a/Pod/p"


def test_json_rendering_carries_entity_evidence_and_related() -> None:
    f = Finding(
        "ATL240",
        Level.ERROR,
        Resource("Deployment", "web", "shop"),
        "x",
        "dependencies",
        evidence=("e1",),
        related=("shop/Service/cart",),
    )
    doc = json.loads(render_json([f], "shop", ["partial"]))
    assert doc["namespace"] == "shop" and doc["errors"] == ["partial"]
    assert doc["findings"][0]["resource"] == "shop/Deployment/web"
    assert doc["findings"][0]["origin"] == "Deployment shop/web"
    assert doc["findings"][0]["evidence"] == ["e1"] and doc["findings"][0]["related"] == ["shop/Service/cart"]


def test_empty_report_uses_istioctl_wording() -> None:
    assert render_text([], "shop") == "\u2714 No validation issues found when analyzing namespace: shop.\n"
    assert render_text([], None) == "\u2714 No validation issues found when analyzing all namespaces.\n"
    assert exit_code([]) == 0


def test_errors_end_with_summary_and_exit_79_warnings_do_not() -> None:
    text = render_text([_f("IST0101", Level.ERROR)], "shop")
    assert text.splitlines()[1] == "Error: Analyzers found issues when analyzing namespace: shop."
    assert exit_code([_f("IST0101", Level.ERROR)]) == FOUND_ISSUES_EXIT_CODE == 79
    warn = [_f("IST0132", Level.WARNING)]
    assert exit_code(warn) == 0 and "Error:" not in render_text(warn, "shop")
    assert render_text(warn, None, ["secrets not listed"]).endswith(
        "Warning: analysis is partial: secrets not listed\n"
    )


def test_registry_lists_every_analyzer_and_rejects_unknown_names() -> None:
    assert len(analyzer_names()) == len(ANALYZERS) >= 25
    assert {
        "IST0101",
        "IST0173",
        "IST0174",
        "IST0102",
        "IST0103",
        "IST0118",
        "IST0132",
        "ATL101",
        "ATL110",
        "ATL121",
        "ATL201",
        "ATL220",
    } <= set(all_codes())
    with pytest.raises(ValueError, match="valid: vs-destinations"):
        get_analyzers(["nope"])
    assert [a.name for a in get_analyzers(["dr-subsets", "quota"])] == ["dr-subsets", "quota"]


def test_healthy_mesh_has_no_findings_at_all() -> None:
    assert run_analyzers(snap(healthy_mesh())) == []


def test_run_sorts_by_level_code_resource_and_filters_namespace() -> None:
    objs = healthy_mesh()
    vs = next(o for o in objs if o["kind"] == "VirtualService" and o["metadata"]["name"] == "reviews")
    vs["spec"]["http"][0]["route"][0]["destination"]["subset"] = "v9"
    vs["spec"]["http"][0]["fault"] = {"delay": {"fixedDelay": "5s", "percentage": {"value": 10}}}
    found = run_analyzers(snap(objs))
    assert [(f.level, f.code) for f in found] == [(Level.ERROR, "IST0101"), (Level.WARNING, "ATL120")]
    assert run_analyzers(snap(objs), namespace="other") == []
    assert run_analyzers(snap(objs), names=["fault-injection"])[0].code == "ATL120"


def test_a_crashing_analyzer_becomes_an_internal_error_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        name, codes = "broken", ("IST0001",)

        def analyze(self, snapshot: object) -> list[Finding]:
            raise KeyError("spec")

    monkeypatch.setitem(ANALYZERS, "broken", Broken())
    found = run_analyzers(snap(healthy_mesh()), names=["broken", "dr-subsets"])
    assert [f.line for f in found] == ["Error [IST0001] (Analyzer broken) Internal error: KeyError: 'spec'"]


def test_access_log_parser_reads_istio_default_format() -> None:
    line = (
        '[2026-11-26T09:59:52.629Z] "GET /reviews/0 HTTP/1.1" 503 NC cluster_not_found - "-" 0 0 0 - "-" '
        '"Go-http-client/1.1" "87d6dfe1" "reviews:9080" "-" - - 10.96.210.119:9080 10.244.0.5:44890 - -'
    )
    a = parse_line(line)
    assert a is not None and (a.code, a.flags, a.details, a.cluster) == (503, "NC", "cluster_not_found", "-")
    deny = parse_line(
        line.replace(
            "503 NC cluster_not_found",
            "403 - rbac_access_denied_matched_policy[ns[shop]-policy[deny-get]-rule[0]]",
        ).replace(" - - 10.96", " inbound|9080|| - 10.96")
    )
    assert deny is not None and deny.rbac_policy == ("shop", "deny-get", 0) and deny.inbound
    assert parse_line("2026-11-26T08:00:18.020000Z\tinfo\tEnvoy proxy is ready") is None
    assert percentile([5, 1, 9, 3], 0.5) == 3

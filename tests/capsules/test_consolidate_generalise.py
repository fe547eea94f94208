"""Generalisation by slot, trigger terms and evidence signatures, on exact strings."""

from __future__ import annotations

import pytest

from atlas_sre.capsules.generalise import (
    POD_PLACEHOLDER,
    Names,
    command_key,
    generalise_command,
    generalise_text,
    strip_pod_suffix,
)
from atlas_sre.capsules.signals import evidence_signature, symptom_terms

POD = POD_PLACEHOLDER


def _names() -> Names:
    n = Names(workloads={"checkout", "reviews-v1"}, services={"checkout", "payment"},
              pods={"checkout-7d9f8c6b5d-x2x4z"}, objects={"payment-dr"})
    n.add_namespace("shop")
    n.add_namespace("istio-system")  # system namespaces are never parameters
    return n


@pytest.mark.parametrize("line, expected", [
    ("kubectl logs checkout-7d9f8c6b5d-x2x4z -n shop -c istio-proxy --tail=100",
     f"kubectl logs {POD} -n {{namespace}} -c istio-proxy --tail=100"),
    ("kubectl -n shop describe pod checkout-7d9f8c6b5d-x2x4z",
     f"kubectl -n {{namespace}} describe pod {POD}"),
    ("kubectl describe deploy/reviews-v1 --namespace=shop",
     "kubectl describe deploy/{workload} --namespace={namespace}"),
    ("kubectl get endpoints payment -n shop", "kubectl get endpoints {service} -n {namespace}"),
    ("kubectl get destinationrules payment-dr -n shop -o yaml",
     "kubectl get destinationrules -n {namespace} -o yaml"),
    ("kubectl get dr checkout -n shop -o yaml", "kubectl get dr {workload} -n {namespace} -o yaml"),
    ("kubectl describe nodes kind-worker3", "kubectl describe nodes"),
    ("kubectl logs istiod-5c6d7f8b9c-qrstv -n istio-system", "kubectl logs istiod -n istio-system"),
    ("kubectl get pods -n shop -l app=checkout,version=v1",
     "kubectl get pods -n {namespace} -l app={workload},version=v1"),
    ("kubectl get events -n shop --field-selector involvedObject.name=checkout-7d9f8c6b5d-x2x4z",
     f"kubectl get events -n {{namespace}} --field-selector involvedObject.name={POD}"),
    ("kubectl logs checkout-7d9f8c6b5d-x2x4z -n shop -c checkout-app --previous",
     f"kubectl logs {POD} -n {{namespace}} --previous"),
    ("kubectl get virtualservices -A -o yaml | grep payment-dr", "kubectl get virtualservices -A -o yaml"),
    ("kubectl logs mongodb-0 -n shop | grep -i error",
     f"kubectl logs {POD} -n {{namespace}} | grep -i error"),
    ("kubectl get pods -n payments", "kubectl get pods -n {namespace}"),  # any -n value, known or not
    ("analyze -A", "analyze -A"),
    ("analyze -n shop", "analyze -n {namespace}"),
])
def test_commands_are_generalised_by_slot(line: str, expected: str) -> None:
    assert generalise_command(line, _names()) == expected


def test_command_key_ignores_namespace_output_and_tail() -> None:
    a = command_key("kubectl get svc -n {namespace} -o wide")
    assert a == command_key("kubectl get services --namespace={namespace}") == "kubectl get services"
    assert command_key(f"kubectl logs {POD} -n {{namespace}} -c istio-proxy --tail=50") == \
        command_key(f"kubectl logs {POD} -c istio-proxy --tail=200")
    assert command_key("kubectl get pods -A") != command_key("kubectl get pods -n {namespace}")


@pytest.mark.parametrize("pod, workload", [
    ("checkout-7d9f8c6b5d-x2x4z", "checkout"), ("db-janitor-29342992-hl5bx", "db-janitor"),
    ("node-exporter-k2x9q", "node-exporter"), ("mongodb-0", "mongodb"), ("redis-cache", "redis-cache"),
    ("reviews-v1", "reviews-v1"),
])
def test_strip_pod_suffix(pod: str, workload: str) -> None:
    assert strip_pod_suffix(pod) == workload


def test_text_generalisation_keeps_words_around_names() -> None:
    text = "Check the DestinationRule payment-dr in shop; pod checkout-7d9f8c6b5d-x2x4z calls payment.shop"
    assert generalise_text(text, _names()) == \
        "Check the DestinationRule <name> in <namespace>; pod <pod> calls <service>.<namespace>"


def test_trigger_terms_are_symptoms_never_names() -> None:
    names = Names(services={"rate", "gateway"})
    names.add_namespace("hotel")
    alerts = [{"alertname": "HighRequestErrorRate", "namespace": "hotel", "service": "rate"},
              {"alertname": "RateServiceDown"}]
    text = "Searches return HTTP 503 and 504; proxy logs show UH; gateway pods keep restarting (error rate)"
    assert symptom_terms(text, alerts, names) == [
        "HTTP 503", "HTTP 504", "UH", "HighRequestErrorRate", "RateServiceDown", "restarting", "error rate"]
    long = Names(services={"checkout"})
    assert symptom_terms("x", [{"alertname": "CheckoutLatencyHigh"}], long) == []  # embeds a long name


@pytest.mark.parametrize("evidence, lines, expected", [
    ("istio-proxy of checkout: 503 NC cluster_not_found", [], [("503 NC cluster_not_found", False)]),
    ("analyze: Error [IST0101] (VirtualService shop/x) Referenced host not found: \"x\"", [],
     [("IST0101", False), ("Referenced host not found", False)]),
    ("pod-x: Last State Terminated, Reason OOMKilled", [], [("OOMKilled", False)]),
    ("Service checkout selector app=checkout has Endpoints: <none>", [], [(r"Endpoints:\s+<none>", True)]),
    ("the service looks broken", ["Endpoints:         <none>"], [(r"Endpoints:\s+<none>", True)]),
    ("checkout-7d9f8c6b5d-x2x4z: waiting on payment.shop for 30s", [],
     [(r"waiting\s+on\s+\S+\.\S+\s+for\s+30s", True)]),
])
def test_evidence_signatures(evidence: str, lines: list[str], expected: list[tuple[str, bool]]) -> None:
    got = evidence_signature(evidence, lines, _names())
    assert [(p.pattern, p.regex) for p in got] == expected
    for p in got:  # every signature matches the output it was read from
        assert p.search(evidence + "\n" + "\n".join(lines))

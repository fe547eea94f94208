"""What every agent is told about an incident: the summary and the firing alerts, grouped."""

from __future__ import annotations

from atlas_sre.agents.tokens import count_tokens
from atlas_sre.agents.types import GROUP_MIN, Incident
from atlas_sre.capsules.episode import parse_alert_lines


def _not_ready(pod: str, ns: str = "hotel") -> dict[str, str]:
    return {"alertname": "KubePodNotReady", "severity": "warning", "namespace": ns, "pod": pod,
            "summary": "Pod has been in a non-ready state for more than 15 minutes.",
            "description": f"Pod {ns}/{pod} has been in a non-ready state for longer than 15 minutes."}


def test_few_alerts_keep_a_line_each() -> None:
    alerts = [_not_ready(f"rate-{i}") for i in range(GROUP_MIN - 1)]
    lines = Incident.of("Rate pods are not ready", alerts).alert_lines()
    assert len(lines) == GROUP_MIN - 1
    assert lines[0] == ("KubePodNotReady (warning) namespace=hotel pod=rate-0: Pod has been in a non-ready state "
                        "for more than 15 minutes. Pod hotel/rate-0 has been in a non-ready state for longer than "
                        "15 minutes")


def test_many_alerts_of_one_name_and_namespace_share_a_line() -> None:
    hpa = {"alertname": "KubeHpaMaxedOut", "severity": "warning", "namespace": "hotel",
           "horizontalpodautoscaler": "rate", "summary": "HPA is running at max replicas."}
    alerts = [_not_ready("rate-0"), hpa] + [_not_ready(f"rate-{i}") for i in range(1, 130)]
    alerts.append(_not_ready("search-0", ns="other"))
    incident = Incident.of("The new rate pods cannot be scheduled", alerts)
    assert incident.alert_lines() == [
        "KubePodNotReady (warning) namespace=hotel pod=rate-0,rate-1,rate-2,rate-3,rate-4,+125 more [130 alerts]: "
        "Pod has been in a non-ready state for more than 15 minutes",  # descriptions differ: only the summary
        "KubeHpaMaxedOut (warning) namespace=hotel horizontalpodautoscaler=rate: HPA is running at max replicas",
        "KubePodNotReady (warning) namespace=other pod=search-0: Pod has been in a non-ready state for more than "
        "15 minutes. Pod other/search-0 has been in a non-ready state for longer than 15 minutes",
    ]
    assert count_tokens(incident.text()) < 150
    assert incident.namespace == "hotel"  # grouping changes the text, not the alerts


def test_a_grouped_line_still_parses_as_an_alert() -> None:
    text = Incident.of("Rate is down", [_not_ready(f"rate-{i}") for i in range(GROUP_MIN)]).text()
    assert parse_alert_lines(text) == [{"alertname": "KubePodNotReady", "severity": "warning", "namespace": "hotel",
                                        "pod": "rate-0", "summary": "Pod has been in a non-ready state for more "
                                                                     "than 15 minutes"}]

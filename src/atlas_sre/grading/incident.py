"""The incident: what an investigator is told — a summary and the firing alerts, nothing else.

It lives in the grading room (the task contract, layer 2) because it is one half of a task: the
scenario's hidden half is the ground truth beside it. Agents receive an `Incident` and never a
scenario, so no scenario name, ground truth or image registry can reach them.

The scenario file's `spec.incident` section (`scenarios.model.Incident`) stays a pydantic model
of its own: it validates the file (an alert must have an `alertname`, unknown keys are errors),
while this class takes whatever alerts a simulator or an operator reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_ALERT_SKIP = frozenset({"alertname", "severity", "summary", "description", "startsAt", "endsAt"})


GROUP_MIN = 6
"""Alerts of one name and namespace that `Incident.alert_lines` folds into one line."""
_GROUP_SHOW = 5  # label values a folded line lists before `+N more`


def _group_key(alert: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(alert.get("alertname", "Alert")), str(alert.get("severity", "warning")),
            str(alert.get("namespace", "")))


def _labels(alert: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in alert.items() if k not in _ALERT_SKIP and v not in (None, "")]


def _alert_line(alert: Mapping[str, Any], labels: str | None = None, text: str | None = None) -> str:
    labels = " ".join(f"{k}={v}" for k, v in _labels(alert)) if labels is None else labels
    if text is None:
        text = ". ".join(str(alert[k]).rstrip(".") for k in ("summary", "description") if alert.get(k))
    head = f"{alert.get('alertname', 'Alert')} ({alert.get('severity', 'warning')})"
    return " ".join(x for x in (head, labels) if x) + (f": {text}" if text else "")


def _group_line(alerts: Sequence[Mapping[str, Any]]) -> str:
    """`KubePodNotReady (warning) namespace=ns pod=a,b,c,d,e,+125 more [130 alerts]: the shared summary`."""
    values: dict[str, list[str]] = {}
    for a in alerts:
        for k, v in _labels(a):
            if str(v) not in values.setdefault(k, []):
                values[k].append(str(v))
    parts = []
    for k, vs in values.items():
        shown = ",".join(vs[:_GROUP_SHOW]) + (f",+{len(vs) - _GROUP_SHOW} more" if len(vs) > _GROUP_SHOW else "")
        parts.append(f"{k}={shown}")
    parts.append(f"[{len(alerts)} alerts]")
    shared = [k for k in ("summary", "description") if alerts[0].get(k)
              and all(a.get(k) == alerts[0][k] for a in alerts)]
    text = ". ".join(str(alerts[0][k]).rstrip(".") for k in shared)
    return _alert_line(alerts[0], " ".join(parts), text)


@dataclass(frozen=True)
class Incident:
    """All an agent is told: a summary and the firing alerts (Prometheus-style label dicts)."""

    summary: str
    alerts: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def of(cls, summary: str, alerts: Sequence[Mapping[str, Any]] | None = None) -> Incident:
        return cls(summary.strip(), tuple(dict(a) for a in alerts or ()))

    @property
    def namespace(self) -> str | None:
        """The namespace most alerts name (what an SRE would default `-n` to), if any."""
        counts = Counter(str(a["namespace"]) for a in self.alerts if a.get("namespace"))
        return counts.most_common(1)[0][0] if counts else None

    def alert_lines(self) -> list[str]:
        """One line per alert: `HighRequestErrorRate (critical) namespace=shop service=x: summary. description`.

        `GROUP_MIN` or more alerts of one name in one namespace share a line, as Alertmanager groups
        its notifications: a scaled-out workload can fire a KubePodNotReady per pod, and 130
        near-identical lines would cost every prompt thousands of tokens and say nothing more than
        `pod=a,b,c,d,e,+125 more [130 alerts]`.
        """
        groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
        for a in self.alerts:
            groups.setdefault(_group_key(a), []).append(a)
        lines = []
        for a in self.alerts:
            group = groups[_group_key(a)]
            if len(group) < GROUP_MIN:
                lines.append(_alert_line(a))
            elif group[0] is a:
                lines.append(_group_line(group))
        return lines

    def text(self) -> str:
        """The incident as every prompt and rule sees it: summary, then `Firing alerts:` lines."""
        lines = self.alert_lines()
        if not lines:
            return self.summary
        return self.summary + "\n\nFiring alerts:\n" + "\n".join(f"- {line}" for line in lines)

"""Printers for Job, CronJob and HorizontalPodAutoscaler (kube-apiserver 1.32).

Job has 1.32's STATUS column (Complete, Failed, Suspended, Running, ...); the HPA's TARGETS cell
is `formatHPAMetrics` (`cpu: 45%/80%`, `cpu: <unknown>/80%` before metrics arrive, "+ N more..."
after two), for autoscaling/v2 objects and for autoscaling/v1 ones alike. `minReplicas` is
defaulted to 1 as the apiserver would have done.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atlas_sre.sim.clock import human_duration, parse_time
from atlas_sre.sim.printers.ages import elapsed
from atlas_sre.sim.printers.columns import (
    AGE,
    NAME,
    Column,
    Printer,
    count,
    field,
    field_or,
    status_count,
    template_columns,
)
from atlas_sre.sim.printers.common import (
    Obj,
    condition_true,
    dig,
    format_label_selector,
    kind_name,
    meta,
    since,
    status_int,
)


def job_status(obj: Obj) -> str:
    """1.32's Job STATUS: Complete, Failed, Terminating, Suspended, FailureTarget or Running."""
    conditions = dig(obj, "status", "conditions")
    if condition_true(conditions, "Complete"):
        return "Complete"
    if condition_true(conditions, "Failed"):
        return "Failed"
    if meta(obj).get("deletionTimestamp"):
        return "Terminating"
    if condition_true(conditions, "Suspended"):
        return "Suspended"
    if condition_true(conditions, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _completions(obj: Obj, now: datetime) -> str:
    """`succeeded/completions`, or `succeeded/1 of N` for a parallel job without a completion count."""
    spec, succeeded = obj.get("spec") or {}, status_int(obj, "succeeded")
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    if int(spec.get("parallelism") or 0) > 1:
        return f"{succeeded}/1 of {spec['parallelism']}"
    return f"{succeeded}/1"


def _duration(obj: Obj, now: datetime) -> str:
    """From start to completion, or to now while the job runs; empty before it starts."""
    start, end = dig(obj, "status", "startTime"), dig(obj, "status", "completionTime")
    if not start:
        return ""
    if not end:
        return elapsed(parse_time(start), now)
    return human_duration(parse_time(end) - parse_time(start))


def _bool_ptr(value: Any) -> str:
    """`printBoolPtr`: True / False / <unset>."""
    return "<unset>" if value is None else ("True" if value else "False")


def _last_schedule(obj: Obj, now: datetime) -> str:
    """The age of the last scheduled run, `<none>` before the first."""
    last = dig(obj, "status", "lastScheduleTime")
    return since(last, now) if last else "<none>"


def _job_template(obj: Obj) -> Obj:
    """A CronJob's `spec.jobTemplate.spec`."""
    return dig(obj, "spec", "jobTemplate", "spec") or {}


def _quantity(value: Any) -> str:
    """A Quantity's `String()` (scenario objects already carry the canonical text)."""
    return "<nil>" if value is None else str(value)


def _metric_text(spec: Obj, status: Obj | None) -> str:
    """One HPA metric as `formatHPAMetrics` writes it ("cpu: 45%/80%", "<unknown>/100 (avg)")."""
    kind = spec.get("type")
    if kind in ("Resource", "ContainerResource"):
        key = "resource" if kind == "Resource" else "containerResource"
        source, current = spec.get(key) or {}, dig(status, key)
        target = source.get("target") or {}
        if target.get("averageValue") is not None:
            cur = _quantity(dig(current, "current", "averageValue")) if current is not None else "<unknown>"
            return f"{source.get('name')}: {cur}/{target['averageValue']}"
        util = dig(current, "current", "averageUtilization")
        cur = f"{util}%" if current is not None and util is not None else "<unknown>"
        tgt = f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
        return f"{source.get('name')}: {cur}/{tgt}"
    if kind == "Pods":
        current = dig(status, "pods")
        cur = _quantity(dig(current, "current", "averageValue")) if current is not None else "<unknown>"
        return f"{cur}/{_quantity(dig(spec, 'pods', 'target', 'averageValue'))}"
    if kind in ("Object", "External"):
        key = kind.lower()
        target, current = dig(spec, key, "target") or {}, dig(status, key)
        if target.get("averageValue") is not None:
            avg = dig(current, "current", "averageValue")
            cur = _quantity(avg) if current is not None and avg is not None else "<unknown>"
            return f"{cur}/{target['averageValue']} (avg)"
        cur = _quantity(dig(current, "current", "value")) if current is not None else "<unknown>"
        return f"{cur}/{_quantity(target.get('value'))}"
    return "<unknown type>"


def hpa_targets(obj: Obj) -> str:
    """The TARGETS cell: up to two metrics, then "+ N more..."; autoscaling/v1 objects too."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    specs, statuses = list(spec.get("metrics") or []), list(status.get("currentMetrics") or [])
    if not specs and spec.get("targetCPUUtilizationPercentage") is not None:  # autoscaling/v1
        specs = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {
                        "type": "Utilization",
                        "averageUtilization": spec["targetCPUUtilizationPercentage"],
                    },
                },
            }
        ]
        if status.get("currentCPUUtilizationPercentage") is not None:
            statuses = [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "current": {"averageUtilization": status["currentCPUUtilizationPercentage"]},
                    },
                }
            ]
    if not specs:
        return "<none>"
    texts = [_metric_text(s, statuses[i] if i < len(statuses) else None) for i, s in enumerate(specs)]
    if len(texts) > 2:
        return f"{', '.join(texts[:2])} + {len(texts) - 2} more..."
    return ", ".join(texts)


def _min_pods(obj: Obj, now: datetime) -> str:
    """`spec.minReplicas`, defaulted to 1 as the apiserver does."""
    min_pods = (obj.get("spec") or {}).get("minReplicas", 1)
    return "<unset>" if min_pods is None else str(min_pods)


PRINTERS: dict[str, Printer] = {
    "Job": Printer([
        NAME,
        Column("Status", "Status of the job.", lambda o, now: job_status(o)),
        Column("Completions", "The number of pods which reached phase Succeeded.", _completions),
        Column("Duration", "Time required to complete the job.", _duration),
        AGE,
        *template_columns(),
    ]),
    "CronJob": Printer([
        NAME,
        Column("Schedule", "The schedule in Cron format.", field("spec", "schedule")),
        Column("Timezone", "The time zone name for the given schedule.",
               field_or("spec", "timeZone", default="<none>")),
        Column("Suspend", "This flag tells the controller to suspend subsequent executions.",
               lambda o, now: _bool_ptr((o.get("spec") or {}).get("suspend", False)), type="boolean"),
        Column("Active", "A list of pointers to currently running jobs.", count("status", "active"), type="integer"),
        Column("Last Schedule", "Information when was the last time the job was successfully scheduled.",
               _last_schedule),
        AGE,
        *template_columns(
            containers=lambda o: dig(_job_template(o), "template", "spec", "containers"),
            selector=lambda o: format_label_selector(_job_template(o).get("selector")),
        ),
    ]),
    "HorizontalPodAutoscaler": Printer([
        NAME,
        Column("Reference", "reference to scaled resource", lambda o, now: kind_name(dig(o, "spec", "scaleTargetRef"))),
        Column("Targets", "metrics contains the specifications for which to use to calculate the desired replica "
               "count", lambda o, now: hpa_targets(o)),
        Column("MinPods", "minReplicas is the lower limit for the number of replicas to which the autoscaler can "
               "scale down.", _min_pods),
        Column("MaxPods", "maxReplicas is the upper limit for the number of replicas to which the autoscaler can "
               "scale up.", lambda o, now: int(dig(o, "spec", "maxReplicas") or 0)),
        Column("Replicas", "currentReplicas is current number of replicas of pods managed by this autoscaler.",
               status_count("currentReplicas")),
        AGE,
    ]),
}

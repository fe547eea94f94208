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
from atlas_sre.sim.tables_common import (
    Cells,
    Obj,
    Printer,
    age,
    age_col,
    as_utc,
    col,
    condition_true,
    dig,
    format_label_selector,
    layout_containers,
    meta,
    name,
    name_col,
    since,
    status_int,
    template_containers,
    wide_template_columns,
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


def _job(obj: Obj, now: datetime) -> Cells:
    spec, succeeded = obj.get("spec") or {}, status_int(obj, "succeeded")
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif int(spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = dig(obj, "status", "startTime"), dig(obj, "status", "completionTime")
    if not start:
        duration = ""
    elif not end:
        duration = human_duration(as_utc(now) - parse_time(start))
    else:
        duration = human_duration(parse_time(end) - parse_time(start))
    names, images = layout_containers(template_containers(obj))
    return [
        name(obj),
        job_status(obj),
        completions,
        duration,
        age(obj, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


def _bool_ptr(value: Any) -> str:
    """`printBoolPtr`: True / False / <unset>."""
    return "<unset>" if value is None else ("True" if value else "False")


def _cronjob(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    last = dig(obj, "status", "lastScheduleTime")
    job_spec = dig(spec, "jobTemplate", "spec") or {}
    names, images = layout_containers(dig(job_spec, "template", "spec", "containers"))
    return [
        name(obj),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        _bool_ptr(spec.get("suspend", False)),
        len(dig(obj, "status", "active") or []),
        since(last, now) if last else "<none>",
        age(obj, now),
        names,
        images,
        format_label_selector(job_spec.get("selector")),
    ]


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


def _hpa(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    min_pods = spec.get("minReplicas", 1)
    return [
        name(obj),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        hpa_targets(obj),
        "<unset>" if min_pods is None else str(min_pods),
        int(spec.get("maxReplicas") or 0),
        status_int(obj, "currentReplicas"),
        age(obj, now),
    ]


PRINTERS: dict[str, Printer] = {
    "Job": Printer(
        [
            name_col(),
            col("Status", "string", "Status of the job."),
            col("Completions", "string", "The number of pods which reached phase Succeeded."),
            col("Duration", "string", "Time required to complete the job."),
            age_col(),
            *wide_template_columns(),
        ],
        _job,
    ),
    "CronJob": Printer(
        [
            name_col(),
            col("Schedule", "string", "The schedule in Cron format."),
            col("Timezone", "string", "The time zone name for the given schedule."),
            col("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions."),
            col("Active", "integer", "A list of pointers to currently running jobs."),
            col(
                "Last Schedule",
                "string",
                "Information when was the last time the job was successfully scheduled.",
            ),
            age_col(),
            *wide_template_columns(),
        ],
        _cronjob,
    ),
    "HorizontalPodAutoscaler": Printer(
        [
            name_col(),
            col("Reference", "string", "reference to scaled resource"),
            col(
                "Targets",
                "string",
                "metrics contains the specifications for which to use to calculate the desired replica count",
            ),
            col(
                "MinPods",
                "string",
                "minReplicas is the lower limit for the number of "
                "replicas to which the autoscaler can scale down.",
            ),
            col(
                "MaxPods",
                "string",
                "maxReplicas is the upper limit for the number of "
                "replicas to which the autoscaler can scale up.",
            ),
            col(
                "Replicas",
                "string",
                "currentReplicas is current number of replicas of pods managed by this autoscaler.",
            ),
            age_col(),
        ],
        _hpa,
    ),
}

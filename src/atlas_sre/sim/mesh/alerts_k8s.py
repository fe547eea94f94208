"""Firing alerts from object state, after kube-prometheus' kubernetes-mixin rules.

| alert | condition | for |
|---|---|---|
| KubePodCrashLooping | a container waits in CrashLoopBackOff | 15m |
| KubePodNotReady | pod Pending/Unknown/Failed, or Running but not Ready (ITBench counts it) | 15m |
| KubeContainerWaiting | a container waits for any other reason (ImagePullBackOff, PodInitializing…) | 15m |
| KubeDeploymentReplicasMismatch | spec.replicas ≠ status.availableReplicas | 15m |
| KubeHpaMaxedOut | HPA currentReplicas == maxReplicas | 15m |
| KubeQuotaFullyUsed / KubeQuotaExceeded | ResourceQuota used == / > hard | 15m |
| TargetDown | > 10% of a Service's scheduled pods have a container not running | 10m |

(kube-prometheus waits 1h for KubeContainerWaiting; 15m keeps it visible in incident windows.)
Job pods are skipped, as the mixin does. `startsAt` = when the condition began (from the objects'
own timestamps) + `for`; an alert whose `for` has not elapsed by the observation is still pending
and not listed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from atlas_sre.kube.labels import map_matches
from atlas_sre.kube.quantity import parse_quantity
from atlas_sre.sim.clock import SimClock, parse_time
from atlas_sre.sim.state import Obj

FOR = timedelta(minutes=15)
TARGET_FOR = timedelta(minutes=10)


def _t(clock: SimClock, text: str | None) -> datetime | None:
    return parse_time(text) - clock.shift if text else None


def _alert(clock: SimClock, name: str, severity: str, labels: dict[str, str], summary: str, description: str,
           since: datetime | None, hold: timedelta = FOR) -> dict[str, Any] | None:
    since = since or clock.start
    if since + hold > clock.observe_at:
        return None
    return {"alertname": name, "severity": severity, **labels, "summary": summary, "description": description,
            "startsAt": clock.iso(since + hold)}


def _job_pod(pod: Obj) -> bool:
    return any(o.get("kind") == "Job" for o in pod["metadata"].get("ownerReferences") or [])


def pod_alerts(pods: list[Obj], clock: SimClock) -> list[dict[str, Any]]:
    """KubePodCrashLooping, KubePodNotReady, KubeContainerWaiting."""
    out: list[dict[str, Any] | None] = []
    for pod in pods:
        md, status = pod["metadata"], pod.get("status") or {}
        if _job_pod(pod) or md.get("deletionTimestamp") or status.get("phase") == "Succeeded":
            continue
        ns, name = md.get("namespace", "default"), md["name"]
        created = _t(clock, md.get("creationTimestamp"))
        for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            reason = ((cs.get("state") or {}).get("waiting") or {}).get("reason")
            labels = {"namespace": ns, "pod": name, "container": cs.get("name", "")}
            if reason == "CrashLoopBackOff":
                out.append(_alert(clock, "KubePodCrashLooping", "warning", labels, "Pod is crash looping.",
                                  f'Pod {ns}/{name} ({cs.get("name")}) is in waiting state '
                                  '(reason: "CrashLoopBackOff").',
                                  created))
            elif reason:
                out.append(_alert(clock, "KubeContainerWaiting", "warning", labels,
                                  "Pod container waiting longer than 15 minutes",
                                  f"pod/{name} in namespace {ns} on container {cs.get('name')} has been in waiting "
                                  f"state ({reason}) for longer than 15 minutes.", created))
        ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
        if status.get("phase") in ("Pending", "Unknown", "Failed") or (ready and ready.get("status") != "True"):
            since = _t(clock, (ready or {}).get("lastTransitionTime")) or created
            out.append(_alert(clock, "KubePodNotReady", "warning", {"namespace": ns, "pod": name},
                              "Pod has been in a non-ready state for more than 15 minutes.",
                              f"Pod {ns}/{name} has been in a non-ready state for longer than 15 minutes.", since))
    return [a for a in out if a]


def _newest_rs(objects: list[Obj], deploy: Obj) -> datetime | None:
    uid = deploy["metadata"].get("uid")
    times = [o["metadata"].get("creationTimestamp") for o in objects if o.get("kind") == "ReplicaSet"
             and any(r.get("uid") == uid or r.get("name") == deploy["metadata"]["name"]
                     for r in o["metadata"].get("ownerReferences") or [])]
    return max((parse_time(t) for t in times if t), default=None)


def workload_alerts(objects: list[Obj], clock: SimClock) -> list[dict[str, Any]]:
    """KubeDeploymentReplicasMismatch, KubeHpaMaxedOut, KubeQuota*."""
    out: list[dict[str, Any] | None] = []
    for obj in objects:
        kind, md = obj.get("kind"), obj["metadata"]
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        ns, name = md.get("namespace", "default"), md["name"]
        if kind == "Deployment" and int(spec.get("replicas", 1)) != int(status.get("availableReplicas") or 0):
            newest = _newest_rs(objects, obj)
            since = (newest - clock.shift) if newest else _t(clock, md.get("creationTimestamp"))
            out.append(_alert(clock, "KubeDeploymentReplicasMismatch", "warning",
                              {"namespace": ns, "deployment": name},
                              "Deployment has not matched the expected number of replicas.",
                              f"Deployment {ns}/{name} has not matched the expected number of replicas for longer "
                              f"than 15 minutes.", since))
        elif kind == "HorizontalPodAutoscaler" and status.get("currentReplicas") is not None \
                and int(status["currentReplicas"]) == int(spec.get("maxReplicas", -1)):
            cond = next((c for c in status.get("conditions") or [] if c.get("type") == "ScalingLimited"), {})
            out.append(_alert(clock, "KubeHpaMaxedOut", "warning", {"namespace": ns, "horizontalpodautoscaler": name},
                              "HPA is running at max replicas",
                              f"HPA {ns}/{name} has been running at max replicas for longer than 15 minutes.",
                              _t(clock, cond.get("lastTransitionTime")) or _t(clock, md.get("creationTimestamp"))))
        elif kind == "ResourceQuota":
            hard, used = status.get("hard") or spec.get("hard") or {}, status.get("used") or {}
            for resource in sorted(hard):
                h, u = parse_quantity(hard[resource]), parse_quantity(used.get(resource, 0))
                if h <= 0 or u < h:
                    continue
                over = u > h
                summary = "Namespace quota has exceeded the limits." if over else "Namespace quota is fully used."
                out.append(_alert(clock, "KubeQuotaExceeded" if over else "KubeQuotaFullyUsed",
                                  "warning" if over else "info",
                                  {"namespace": ns, "resourcequota": name, "resource": resource}, summary,
                                  f"Namespace {ns} is using {float(u / h):.0%} of its {resource} quota.",
                                  _t(clock, md.get("creationTimestamp"))))
    return [a for a in out if a]


def target_alerts(objects: list[Obj], clock: SimClock) -> list[dict[str, Any]]:
    """TargetDown: a Service whose scheduled pods are more than 10% down."""
    pods = [o for o in objects if o.get("kind") == "Pod" and (o.get("status") or {}).get("podIP")]
    out: list[dict[str, Any] | None] = []
    for svc in (o for o in objects if o.get("kind") == "Service"):
        selector = (svc.get("spec") or {}).get("selector")
        if not selector:
            continue
        ns = svc["metadata"].get("namespace", "default")
        chosen = [p for p in pods if p["metadata"].get("namespace") == ns
                  and map_matches(selector, p["metadata"].get("labels") or {}) and not _job_pod(p)]
        down = [p for p in chosen if not all("running" in (cs.get("state") or {})
                                               for cs in (p.get("status") or {}).get("containerStatuses") or [{}])]
        if chosen and len(down) / len(chosen) > 0.1:
            since = min(_t(clock, p["metadata"].get("creationTimestamp")) or clock.start for p in down)
            name = svc["metadata"]["name"]
            out.append(_alert(clock, "TargetDown", "warning", {"namespace": ns, "service": name, "job": name},
                              "One or more targets are unreachable.",
                              f"{100 * len(down) // len(chosen)}% of the {name}/{name} targets in {ns} namespace "
                              f"are down.", since, TARGET_FOR))
    return [a for a in out if a]

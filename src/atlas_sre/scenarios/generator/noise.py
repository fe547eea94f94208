"""Red herrings: harmless things a real cluster always has, written as objects and behaviour.

Nothing here writes a symptom. An exporter that leaks a little memory restarts a few times a day
(old restarts); a cleanup Job that failed hours ago leaves a Warning event and an Error pod; a
config reloader without RBAC logs a `Forbidden` line; an HPA on a container without a CPU
request warns every sync. The readiness gate checks they cause no failed request and no alert.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from atlas_sre.sim.images import ExitBehaviour, Health, ImageBehaviour, Listen, LogTemplates, Usage

Obj = dict[str, Any]
MONITORING = "monitoring"
KINDS = ("restarts", "failed-job", "forbidden-log", "unmeasurable-hpa")


@dataclass
class Noise:
    """Objects and images one red herring adds, and a one-line note for the generator's report."""

    kind: str
    manifests: list[Obj] = field(default_factory=list)
    registry: dict[str, ImageBehaviour] = field(default_factory=dict)


def _deployment(name: str, ns: str, image: str, *, memory: str = "64Mi", extra: Obj | None = None) -> Obj:
    labels = {"app.kubernetes.io/name": name}
    container: Obj = {"name": name, "image": image,
                      "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": memory}}}
    container.update(extra or {})
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": dict(labels),
                                               "annotations": {"sidecar.istio.io/inject": "false"}},
                                  "spec": {"containers": [container]}}}}


def _namespace() -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": MONITORING}}


def restarts(rng: random.Random, app_ns: str, hours_up: float) -> Noise:
    """A statsd exporter with a slow leak: OOMKilled every few hours, otherwise fine."""
    period_min = hours_up * 60 / rng.choice([3, 4, 5, 6])
    image = "quay.io/prometheus/statsd-exporter:v0.26.1"
    behaviour = ImageBehaviour(
        entrypoint=["/bin/statsd_exporter"], listen=[Listen(port=9102)], health=Health(path="/metrics"),
        usage=Usage(memoryMi=40, cpuMilli=4, memoryGrowthMiPerMin=round(24 / period_min, 4)), latencyMs=2,
        logs=LogTemplates(startup=['ts=caller=main.go:320 level=info msg="Starting StatsD -> Prometheus Exporter" '
                                   'version="(version=0.26.1)"',
                                   'ts=caller=main.go:402 level=info msg="Accepting StatsD Traffic" udp=:9125']))
    dep = _deployment("statsd-exporter", MONITORING, image, memory="64Mi")
    return Noise("restarts", [_namespace(), dep], {image: behaviour})


def failed_job(rng: random.Random, app_ns: str, hours_up: float) -> Noise:
    """A cleanup Job (a CronJob's child, by its name) that failed long ago."""
    image = "registry.example.com/platform/db-janitor:1.4.0"
    stamp = 29340000 + rng.randrange(9999)
    behaviour = ImageBehaviour(entrypoint=["/janitor"], usage=Usage(memoryMi=20, cpuMilli=5),
                               exit=ExitBehaviour(code=1, afterSeconds=4.0,
                                                  log="error: vacuum orders_archive: connection refused "
                                                      "(is the maintenance replica up?)"),
                               logs=LogTemplates(startup=["janitor 1.4.0 starting nightly cleanup"]))
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": f"db-janitor-{stamp}", "namespace": app_ns,
                        "labels": {"app.kubernetes.io/name": "db-janitor"}},
           "spec": {"backoffLimit": 0, "template": {
               "metadata": {"labels": {"app.kubernetes.io/name": "db-janitor"},
                            "annotations": {"sidecar.istio.io/inject": "false"}},
               "spec": {"restartPolicy": "Never", "containers": [{
                   "name": "janitor", "image": image,
                   "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}}}]}}}}
    return Noise("failed-job", [job], {image: behaviour})


def forbidden_log(rng: random.Random, app_ns: str, hours_up: float) -> Noise:
    """A config reloader whose ServiceAccount lacks RBAC to list Secrets: it logs Forbidden and carries on."""
    image = "ghcr.io/stakater/reloader:v1.1.0"
    user = f"system:serviceaccount:{MONITORING}:default"
    line = (f'level=error msg="Failed to list *v1.Secret: secrets is forbidden: User \\"{user}\\" cannot list '
            f'resource \\"secrets\\" in API group \\"\\" in the namespace \\"{app_ns}\\""')
    behaviour = ImageBehaviour(entrypoint=["/manager"], usage=Usage(memoryMi=30, cpuMilli=3),
                               logs=LogTemplates(startup=['level=info msg="Environment: Kubernetes"',
                                                          'level=info msg="Starting Reloader"', line,
                                                          'level=info msg="created controller for: configMaps"']))
    return Noise("forbidden-log", [_namespace(), _deployment("reloader", MONITORING, image)], {image: behaviour})


def unmeasurable_hpa(rng: random.Random, app_ns: str, hours_up: float) -> Noise:
    """A log forwarder with an HPA but no CPU request: the autoscaler warns every sync, nothing breaks."""
    image = "docker.io/fluent/fluent-bit:3.1.9"
    behaviour = ImageBehaviour(entrypoint=["/fluent-bit/bin/fluent-bit"], listen=[Listen(port=2020)],
                               usage=Usage(memoryMi=24, cpuMilli=6), latencyMs=2,
                               logs=LogTemplates(startup=[
                                   "[ info] [fluent bit] version=3.1.9, commit=431fa79ae2, pid=1",
                                   "[ info] [output:forward:forward.0] worker #0 started",
                                   "[ info] [sp] stream processor started"]))
    dep = _deployment("log-forwarder", MONITORING, image, memory="128Mi")
    dep["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"memory": "32Mi"},
                                                                     "limits": {"memory": "128Mi"}}
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "log-forwarder", "namespace": MONITORING},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "log-forwarder"},
                    "minReplicas": 1, "maxReplicas": 3,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                        "type": "Utilization", "averageUtilization": 80}}}]}}
    return Noise("unmeasurable-hpa", [_namespace(), dep, hpa], {image: behaviour})


MAKERS = {"restarts": restarts, "failed-job": failed_job, "forbidden-log": forbidden_log,
          "unmeasurable-hpa": unmeasurable_hpa}


def draw_noise(rng: random.Random, app_ns: str, hours_up: float, count: int) -> list[Noise]:
    """`count` distinct red herrings."""
    kinds = rng.sample(list(KINDS), k=min(count, len(KINDS)))
    return [MAKERS[k](rng, app_ns, hours_up) for k in sorted(kinds)]


def merge_noise(noises: list[Noise]) -> tuple[list[Obj], dict[str, ImageBehaviour]]:
    """All noise objects (the monitoring Namespace once) and images."""
    manifests: list[Obj] = []
    registry: dict[str, ImageBehaviour] = {}
    seen: set[tuple[str, str]] = set()
    for n in noises:
        for obj in n.manifests:
            key = (obj["kind"], obj["metadata"]["name"])
            if key not in seen:
                seen.add(key)
                manifests.append(obj)
        registry.update(n.registry)
    return manifests, registry

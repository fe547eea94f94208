"""The hard tier: incidents whose answer is not the first Error line of an analyzer.

Four kinds, each drawn from its own rng (`"{seed}/hard/{kind}/{i}"`) and appended after every other
library scenario, so nothing already in the library changes:

- `two-faults`: two simultaneous faults on different targets (both are root causes);
- `herring`: one fault plus red herrings *inside the application's namespace* (an old OOMKill or
  crash on another workload, an RBAC `Forbidden` line, an HPA that warns every sync, a failed Job
  elsewhere): the noise sits beside the user impact and must not be blamed;
- `noisy-control`: no fault at all, only that noise: the right answer names nothing;
- `two-hop`: a fault on a workload the entry point does not call directly, with no pod-state
  signature (a wrong dependency address, an unanswering DNS server, an egress-blocking policy): the
  caller's logs point at the dependency, whose own logs show the cause.

Noise is written as objects and behaviour only: an old restart is an `episodes` entry on the
image (the kubelet restarts the container and it runs ready since), a failed Job is a Job whose
image exits non-zero past its `backoffLimit`. Why in the app's namespace: grading never blames the
infra namespaces (`monitoring`), so noise there cannot mislead a graded answer.
"""

from __future__ import annotations

import copy
import random
from datetime import datetime, timedelta
from typing import Any

from atlas_sre.kube.quantity import parse_quantity
from atlas_sre.scenarios.apps import load_app
from atlas_sre.scenarios.faults.base import Ref
from atlas_sre.scenarios.faults.topology import entry_services, service_workloads

Obj = dict[str, Any]
PER_KIND: dict[str, int] = {"two-faults": 6, "herring": 7, "noisy-control": 9, "two-hop": 6}
TWO_HOP_FAULTS = ("modified-kubernetes-workload-container-environment-variable",
                  "failing-name-resolution-kubernetes-workload-dns-policy",
                  "egress-blocking-network-policy")
ELSEWHERE = "analytics"  # a team namespace beside the app: not infra, so blaming it is wrong
NOISE_KINDS = ("old-restart", "forbidden-log", "hpa-warnings", "failed-job")


def entry_workloads(parts: Any) -> set[str]:
    """`ns/Deployment/name` of the workloads user traffic reaches first (excluded from two-hop targets)."""
    out: set[str] = set()
    for svc in entry_services(parts):
        for w in service_workloads(parts, svc):
            md = w["metadata"]
            out.add(str(Ref(w["kind"], md["name"], md.get("namespace") or svc.namespace)))
    return out


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _unique_image_workloads(app: str, avoid: set[str]) -> list[tuple[Obj, Obj]]:
    """(workload, container) of app Deployments whose image no other workload runs, not in `avoid`."""
    manifests = [m for m in load_app(app).manifests if m["kind"] == "Deployment"]
    images = [m["spec"]["template"]["spec"]["containers"][0]["image"] for m in manifests]
    names = {a.rsplit("/", 1)[-1] for a in avoid}  # a fault on `cart`'s Service or Secret avoids `cart` too
    out = []
    for m, image in zip(manifests, images, strict=True):
        if images.count(image) == 1 and m["metadata"]["name"] not in names and int(m["spec"].get("replicas", 1)) > 0:
            out.append((m, m["spec"]["template"]["spec"]["containers"][0]))
    return out


def old_restart(rng: random.Random, app: str, observe_at: datetime, avoid: set[str]) -> tuple[list[Obj], Obj, str]:
    """An app workload OOMKilled (or crashed) once, hours ago, and ready ever since: an `episodes` entry."""
    workload, container = rng.choice(_unique_image_workloads(app, avoid))
    image = container["image"]
    behaviour = copy.deepcopy(load_app(app).registry[image].model_dump(exclude_defaults=True))
    at = observe_at - timedelta(hours=rng.choice([2, 3, 4, 5]), minutes=rng.randrange(5, 55))
    limit_mi = int(parse_quantity((container.get("resources") or {}).get("limits", {}).get("memory", "256Mi"))
                   / (1024 * 1024))
    if rng.random() < 0.6:
        episode: Obj = {"at": _stamp(at), "memoryMi": int(limit_mi * 1.3) + 8}
    else:
        episode = {"at": _stamp(at), "exitCode": 2,
                   "log": rng.choice(["panic: runtime error: invalid memory address or nil pointer dereference",
                                      "fatal error: concurrent map writes",
                                      "panic: send on closed channel"])}
    behaviour["episodes"] = [episode]
    return [], {image: behaviour}, workload["metadata"]["name"]


def forbidden_log(rng: random.Random, ns: str) -> tuple[list[Obj], Obj, str]:
    """A config reloader in the app's namespace whose ServiceAccount cannot list Secrets: it logs it and carries on."""
    image = "ghcr.io/stakater/reloader:v1.1.0"
    user = f"system:serviceaccount:{ns}:default"
    resource = rng.choice(["secrets", "configmaps"])
    line = (f'level=error msg="Failed to list *v1.{"Secret" if resource == "secrets" else "ConfigMap"}: '
            f'{resource} is forbidden: User \\"{user}\\" cannot list resource \\"{resource}\\" in API group '
            f'\\"\\" at the cluster scope"')
    behaviour = {"entrypoint": ["/manager"], "usage": {"memoryMi": 30, "cpuMilli": 3},
                 "logs": {"startup": ['level=info msg="Environment: Kubernetes"', 'level=info msg="Starting Reloader"',
                                      line, 'level=info msg="created controller for: configMaps"']}}
    return [_deployment("reloader", ns, image)], {image: behaviour}, "reloader"


def hpa_warnings(rng: random.Random, ns: str) -> tuple[list[Obj], Obj, str]:
    """A log forwarder in the app's namespace with an HPA but no CPU request: a Warning every sync, nothing breaks."""
    image = "docker.io/fluent/fluent-bit:3.1.9"
    behaviour = {"entrypoint": ["/fluent-bit/bin/fluent-bit"], "listen": [{"port": 2020}],
                 "usage": {"memoryMi": 24, "cpuMilli": 6}, "latencyMs": 2,
                 "logs": {"startup": ["[ info] [fluent bit] version=3.1.9, commit=431fa79ae2, pid=1",
                                      "[ info] [output:forward:forward.0] worker #0 started"]}}
    dep = _deployment("log-forwarder", ns, image, cpu=False)
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "log-forwarder", "namespace": ns},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "log-forwarder"},
                    "minReplicas": 1, "maxReplicas": rng.choice([2, 3]),
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                        "type": "Utilization", "averageUtilization": 80}}}]}}
    return [dep, hpa], {image: behaviour}, "log-forwarder"


def failed_job(rng: random.Random, ns: str) -> tuple[list[Obj], Obj, str]:
    """In another team's namespace: a nightly export CronJob whose runs complete, and a manual run of it
    (`kubectl create job --from=cronjob`) that failed past its backoffLimit."""
    ok, bad = "registry.example.com/data/report-export:2.3.0", "registry.example.com/data/report-export:2.4.0-rc1"
    bucket = rng.choice(["reports-eu", "reports-prod", "exports"])
    ok_b = {"entrypoint": ["/export"], "usage": {"memoryMi": 40, "cpuMilli": 20},
            "exit": {"code": 0, "afterSeconds": 40.0},
            "logs": {"startup": [f"report-export 2.3.0: exporting yesterday's orders to s3://{bucket}"]}}
    bad_b = {"entrypoint": ["/export"], "usage": {"memoryMi": 40, "cpuMilli": 20},
             "exit": {"code": 1, "afterSeconds": 6.0,
                      "log": f"error: upload s3://{bucket}/daily.csv: AccessDenied: Access Denied (status code: 403)"},
             "logs": {"startup": [f"report-export 2.4.0-rc1: exporting yesterday's orders to s3://{bucket}"]}}
    labels = {"app.kubernetes.io/name": "report-export"}
    pod = {"metadata": {"labels": labels}, "spec": {"restartPolicy": "Never", "containers": [{
        "name": "export", "image": ok, "resources": {"requests": {"cpu": "20m", "memory": "64Mi"},
                                                     "limits": {"memory": "128Mi"}}}]}}
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "report-export", "namespace": ELSEWHERE},
            "spec": {"schedule": f"{rng.randrange(0, 60)} 2 * * *", "successfulJobsHistoryLimit": 3,
                     "failedJobsHistoryLimit": 1, "jobTemplate": {"spec": {"backoffLimit": 2, "template": pod}}}}
    manual_pod = copy.deepcopy(pod)
    manual_pod["spec"]["containers"][0]["image"] = bad
    manual = {"apiVersion": "batch/v1", "kind": "Job",
              "metadata": {"name": f"report-export-manual-{rng.choice('bcdfghjklmnpqrstvwxz')}"
                                   f"{rng.randrange(10, 99)}{rng.choice('bcdfghjklmnpqrstvwxz')}",
                           "namespace": ELSEWHERE, "labels": dict(labels)},
              "spec": {"backoffLimit": 2, "template": manual_pod}}
    ns_obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ELSEWHERE}}
    return [ns_obj, cron, manual], {ok: ok_b, bad: bad_b}, manual["metadata"]["name"]


def _deployment(name: str, ns: str, image: str, cpu: bool = True) -> Obj:
    labels = {"app.kubernetes.io/name": name}
    requests = {"cpu": "10m", "memory": "32Mi"} if cpu else {"memory": "32Mi"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": dict(labels),
                                               "annotations": {"sidecar.istio.io/inject": "false"}},
                                  "spec": {"containers": [{"name": name, "image": image, "resources": {
                                      "requests": requests, "limits": {"memory": "128Mi"}}}]}}}}


def add_noise(spec: dict[str, Any], rng: random.Random, avoid: set[str], at_least: int = 1) -> list[tuple[str, str]]:
    """Add in-app red herrings to a scenario spec; returns (noise kind, the object it shows on).

    An old restart on an app workload is always one of them (the noise analyzers used to raise as an
    Error); the others are drawn."""
    app = str(spec["app"])
    ns = load_app(app).namespace
    observe_at = datetime.strptime(spec["clock"]["observeAt"], "%Y-%m-%dT%H:%M:00Z")
    others = rng.sample(list(NOISE_KINDS[1:]), k=rng.randrange(max(0, at_least - 1), len(NOISE_KINDS)))
    shown: list[tuple[str, str]] = []
    for kind in ["old-restart", *sorted(others)]:
        if kind == "old-restart":
            manifests, registry, on = old_restart(rng, app, observe_at, avoid)
        elif kind == "forbidden-log":
            manifests, registry, on = forbidden_log(rng, ns)
        elif kind == "hpa-warnings":
            manifests, registry, on = hpa_warnings(rng, ns)
        else:
            manifests, registry, on = failed_job(rng, ns)
        spec["manifests"] = list(spec.get("manifests") or []) + manifests
        spec["registry"] = {**(spec.get("registry") or {}), **registry}
        shown.append((kind, on))
    return shown


CONTROL_ASKS = {
    "old-restart": ["{on} in {ns} restarted a few hours ago; confirm whether {host} is affected now",
                    "A teammate saw a restart on {on} overnight and asks whether {app} needs attention",
                    "kubectl shows restarts on {on}; is {host} degraded?"],
    "forbidden-log": ["A log search shows 'Forbidden' errors in namespace {ns}; check whether {host} is impacted"],
    "hpa-warnings": ["There are Warning events in namespace {ns} today; confirm that {app} is healthy"],
    "failed-job": ["Job {on} in namespace analytics failed; is {host} impacted?"],
}


def control_summary(app: str, entry: dict[str, Any], shown: list[tuple[str, str]], rng: random.Random) -> str:
    """What an on-call would be asked on a noisy but healthy cluster: worded from the noise they saw."""
    host = str(entry.get("host") or entry.get("service") or app)
    kind, on = shown[rng.randrange(len(shown))]
    text = rng.choice(CONTROL_ASKS[kind])
    return text.format(on=on, ns=load_app(app).namespace, host=host, app=app)


def scenario_name(app: str, kind: str, detail: str, index: int) -> str:
    """`online-shop-hard-two-hop-modified-environment-variable-checkout-131`."""
    return f"{app}-hard-{kind}{'-' + detail if detail else ''}-{index:03d}"

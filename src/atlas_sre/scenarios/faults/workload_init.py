"""Init-container faults: one that crashes on a malformed config, one that waits forever for a
dependency that will never answer. Either way the app container never starts."""

from __future__ import annotations

import random

from atlas_sre.scenarios.faults.base import FaultArgs, Impact, Parts, Ref, Signature, fault
from atlas_sre.scenarios.faults.common import serving_workloads
from atlas_sre.scenarios.faults.topology import dependencies, pod_spec
from atlas_sre.sim.images import ExitBehaviour, ImageBehaviour, LogTemplates, Usage

YQ = "docker.io/mikefarah/yq:4.44.3"
BUSYBOX = "docker.io/library/busybox:1.36.1"


class CrashInitArgs(FaultArgs):
    name: str = "render-config"
    line: int = 14  # the line of the malformed config the tool chokes on


@fault("crashing-kubernetes-workload-init-container",
       "Add an init container that fails on a malformed configuration file.",
       category="Misconfiguration", args=CrashInitArgs, candidates=serving_workloads, symptom="crashloop",
       signature=Signature(alerts=("KubePodCrashLooping", "KubeContainerWaiting", "KubePodNotReady"),
                           events=("BackOff",), pod=("Init:CrashLoopBackOff", "Init:Error")),
       draw=lambda parts, target, rng: {"line": rng.randrange(3, 60)})
def CRASHING_INIT(parts: Parts, target: Ref, args: CrashInitArgs, rng: random.Random) -> Impact:
    log = f"Error: bad file '/config/app.yaml': yaml: line {args.line}: did not find expected key"
    parts.add_image(YQ, ImageBehaviour(entrypoint=["yq"], binaries=["yq", "sh"], usage=Usage(memoryMi=8, cpuMilli=5),
                                       exit=ExitBehaviour(code=1, afterSeconds=1.0, log=log)))
    spec = pod_spec(parts.edit(target))
    spec.setdefault("initContainers", []).append({
        "name": args.name, "image": YQ,
        "command": ["yq", "eval", "-o=json", "/config/app.yaml"],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}}})
    return Impact(target, f"init container {args.name} exits 1 on a malformed /config/app.yaml (line {args.line})",
                  "pods stuck in Init:CrashLoopBackOff")


class HangInitArgs(FaultArgs):
    waitFor: str | None = None  # host:port the init container polls; default: a dependency name with a typo


def _default_wait(parts: Parts, target: Ref) -> str:
    deps = dependencies(parts, parts.require(target))
    if deps:
        return f"{deps[0].service.name}-primary:{deps[0].port or 80}"
    return f"{target.name}-db:5432"


@fault("hanging-kubernetes-workload-init-container",
       "Add an init container that waits forever for an address nothing serves.",
       category="Misconfiguration", args=HangInitArgs, candidates=serving_workloads, symptom="pending",
       signature=Signature(alerts=("KubeContainerWaiting", "KubePodNotReady"), pod=("PodInitializing",)),
       draw=lambda parts, target, rng: {"waitFor": _default_wait(parts, target)})
def HANGING_INIT(parts: Parts, target: Ref, args: HangInitArgs, rng: random.Random) -> Impact:
    wait = args.waitFor or _default_wait(parts, target)
    host, _, port = wait.partition(":")
    parts.add_image(BUSYBOX, ImageBehaviour(entrypoint=["sh"], binaries=["sh", "nc", "sleep", "nslookup"],
                                            usage=Usage(memoryMi=2, cpuMilli=1), hang=True,
                                            logs=LogTemplates(startup=[f"waiting for {host}"])))
    name = f"wait-for-{host.split('.')[0]}"
    spec = pod_spec(parts.edit(target))
    spec.setdefault("initContainers", []).append({
        "name": name, "image": BUSYBOX,
        "command": ["sh", "-c", f"until nc -z {host} {port or 80}; do echo waiting for {host}; sleep 2; done"],
        "resources": {"requests": {"cpu": "5m", "memory": "8Mi"}, "limits": {"memory": "32Mi"}}})
    return Impact(target, f"init container {name} waits for {wait}, which never answers, so the app never starts",
                  "pods stuck in Init:0/1")


FAULTS = [CRASHING_INIT, HANGING_INIT]

"""Faults that ship a broken container: an image tag that was never pushed, a wrong command, a
release that panics at start, a release that leaks memory. Each changes the pod template, so the
Deployment rolls out a new ReplicaSet at the fault time."""

from __future__ import annotations

import random

from atlas_sre.scenarios.faults.base import FaultArgs, FaultError, Impact, Parts, Ref, Signature, fault
from atlas_sre.scenarios.faults.common import behaviour, bump_tag, main_container, pick, serving_workloads
from atlas_sre.scenarios.faults.quantity import mebibytes
from atlas_sre.sim.images import ExitBehaviour


class ImageArgs(FaultArgs):
    container: str | None = None
    image: str | None = None  # the reference that cannot be pulled; default: the next, never-pushed tag


def _typo(image: str, rng: random.Random) -> str:
    repo, _, tag = image.rpartition(":")
    if rng.random() < 0.5:
        return bump_tag(image, rng)
    path = repo.split("/")
    i = len(path) - 1
    word = path[i]
    j = 1 + rng.randrange(max(1, len(word) - 2))
    path[i] = word[:j] + word[j + 1:j + 2] + word[j] + word[j + 2:] if len(word) > 3 else word + "s"
    return f"{'/'.join(path)}:{tag}"


def _draw_image(parts: Parts, target: Ref, rng: random.Random) -> dict[str, object]:
    image = main_container(parts.require(target))["image"]
    bad = _typo(image, rng)
    while bad in parts.registry or bad == image:
        bad = bump_tag(bad, rng)
    return {"image": bad}


@fault("nonexistent-kubernetes-workload-container-image",
       "Roll out a container image reference that does not exist in the registry.",
       category="Change", args=ImageArgs, candidates=serving_workloads, symptom="rollout",
       signature=Signature(alerts=("KubePodNotReady", "KubeContainerWaiting"), events=("Failed", "BackOff"),
                           pod=("ErrImagePull", "ImagePullBackOff")),
       draw=_draw_image)
def NONEXISTENT_IMAGE(parts: Parts, target: Ref, args: ImageArgs, rng: random.Random) -> Impact:
    c = main_container(parts.edit(target), args.container)
    old = c["image"]
    bad = args.image or bump_tag(old, rng)
    if bad in parts.registry:
        raise FaultError(f"fault nonexistent-kubernetes-workload-container-image: image {bad!r} exists")
    c["image"] = bad
    return Impact(target, f"container {c['name']} references image {bad}, which does not exist (was {old})",
                  "new pods stuck in ImagePullBackOff; the rollout stalls")

BAD_COMMANDS = ["/app/start.sh", "/usr/local/bin/run-server", "./server", "/docker-entrypoint.sh", "start-app"]


class CommandArgs(FaultArgs):
    container: str | None = None
    command: list[str] | None = None  # default: an executable the image does not contain


def _draw_command(parts: Parts, target: Ref, rng: random.Random) -> dict[str, object]:
    c = main_container(parts.require(target))
    exe = behaviour(parts, c).executables()
    return {"command": [pick(rng, [x for x in BAD_COMMANDS if x not in exe])]}


@fault("invalid-kubernetes-workload-container-command",
       "Set a container command that the image does not contain, so the container cannot start.",
       category="Misconfiguration", args=CommandArgs, candidates=serving_workloads, symptom="crashloop",
       signature=Signature(alerts=("KubePodCrashLooping", "KubePodNotReady"), events=("BackOff",),
                           pod=("CrashLoopBackOff", "RunContainerError", "StartError")),
       draw=_draw_command)
def INVALID_COMMAND(parts: Parts, target: Ref, args: CommandArgs, rng: random.Random) -> Impact:
    c = main_container(parts.edit(target), args.container)
    exe = behaviour(parts, c).executables()
    command = args.command or [next(x for x in BAD_COMMANDS if x not in exe)]
    if command[0] in exe:
        raise FaultError(f"fault invalid-kubernetes-workload-container-command: {command[0]!r} exists in the image")
    c["command"] = command
    return Impact(target, f"container {c['name']} command {command[0]} is not present in image {c['image']}",
                  "containers fail to start (StartError) and crash-loop")


def _panic_line(entrypoint: list[str]) -> str:
    text = " ".join(entrypoint)
    if "java" in text or "wlp" in text:
        return ('Exception in thread "main" java.lang.IllegalStateException: required property '
                '"feature.flags.url" is unset')
    if "python" in text:
        return "KeyError: 'FEATURE_FLAGS_URL'"
    if "node" in text or "npm" in text:
        return "TypeError: Cannot read properties of undefined (reading 'flags')"
    if "ruby" in text or "bundle" in text:
        return "undefined method `fetch' for nil:NilClass (NoMethodError)"
    return "panic: runtime error: invalid memory address or nil pointer dereference"


class ReleaseArgs(FaultArgs):
    container: str | None = None
    tag: str | None = None  # the new image reference; default: the next patch release


def _release(parts: Parts, target: Ref, args: ReleaseArgs, rng: random.Random) -> tuple[dict, str, str]:
    c = main_container(parts.edit(target), args.container)
    old = c["image"]
    new = args.tag or bump_tag(old, rng)
    if new in parts.registry:
        raise FaultError(f"release {new!r} already exists in the registry")
    return c, old, new


@fault("crashing-kubernetes-workload-release", "Roll out a new image version whose process crashes right after start.",
       category="Change", args=ReleaseArgs, candidates=serving_workloads, symptom="crashloop",
       signature=Signature(alerts=("KubePodCrashLooping", "KubePodNotReady"), events=("BackOff",),
                           pod=("CrashLoopBackOff", "Error")),
       draw=lambda parts, target, rng: {"tag": bump_tag(main_container(parts.require(target))["image"], rng)})
def PANICKING_RELEASE(parts: Parts, target: Ref, args: ReleaseArgs, rng: random.Random) -> Impact:
    c, old, new = _release(parts, target, args, rng)
    b = behaviour(parts, c).model_copy(deep=True)
    b.exit = ExitBehaviour(code=2 if "panic" in _panic_line(b.entrypoint) else 1, afterSeconds=2.0,
                           log=_panic_line(b.entrypoint))
    parts.add_image(new, b)
    c["image"] = new
    return Impact(target, f"release {new} (was {old}) exits at start-up: {b.exit.log}",
                  "new pods crash-loop; the rollout stalls")


class LeakArgs(ReleaseArgs):
    minutesToLimit: float = 8.0  # how fast the leak reaches the memory limit


@fault("memory-leak-kubernetes-workload-release",
       "Roll out a new image version that leaks memory until the container limit kills it.",
       category="Resource Saturation", args=LeakArgs, candidates=serving_workloads, symptom="crashloop",
       signature=Signature(alerts=("KubePodCrashLooping", "KubeDeploymentReplicasMismatch", "KubePodNotReady"),
                           events=("BackOff",), pod=("OOMKilled", "CrashLoopBackOff")),
       draw=lambda parts, target, rng: {"tag": bump_tag(main_container(parts.require(target))["image"], rng),
                                        "minutesToLimit": float(rng.choice([4, 6, 8, 12]))})
def MEMORY_LEAK(parts: Parts, target: Ref, args: LeakArgs, rng: random.Random) -> Impact:
    c, old, new = _release(parts, target, args, rng)
    limit = mebibytes(((c.get("resources") or {}).get("limits") or {}).get("memory"))
    if not limit:
        raise FaultError(f"fault memory-leak-kubernetes-workload-release: {target} has no memory limit")
    b = behaviour(parts, c).model_copy(deep=True)
    b.usage.memoryGrowthMiPerMin = round(max(1.0, (limit - b.usage.memoryMi) / max(args.minutesToLimit, 0.5)), 1)
    parts.add_image(new, b)
    c["image"] = new
    return Impact(target, f"release {new} (was {old}) leaks ~{b.usage.memoryGrowthMiPerMin} MiB/min and is "
                  f"OOMKilled at its {limit}Mi limit", "pods restart repeatedly (OOMKilled)")


FAULTS = [NONEXISTENT_IMAGE, INVALID_COMMAND, PANICKING_RELEASE, MEMORY_LEAK]

"""Small helpers shared by the injectors: picking targets, editing pod templates, naming things."""

from __future__ import annotations

import random
from collections.abc import Callable

from atlas_sre.scenarios.faults.base import FaultError, Obj, Parts, Ref, ref_of
from atlas_sre.scenarios.faults.topology import (
    critical_services,
    dependencies,
    image_of,
    pod_spec,
    served_services,
    services_of,
    workloads,
    workloads_of,
)
from atlas_sre.sim.images import ImageBehaviour

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def workload_refs(parts: Parts, keep: Callable[[Obj], bool] = lambda _w: True) -> list[Ref]:
    """Deployments/StatefulSets (sorted by entity) that pass `keep` and run at least one replica."""
    out = [ref_of(w) for w in workloads(parts) if (w["spec"].get("replicas", 1) or 0) > 0 and keep(w)]
    return sorted(out, key=str)


def serving_workloads(parts: Parts) -> list[Ref]:
    """Workloads behind a Service that receives traffic: breaking them is user-visible."""
    served = set(served_services(parts))
    return workload_refs(parts, lambda w: any(ref_of(s) in served for s in services_of(parts, w)))


def calling_workloads(parts: Parts, protocol: str | None = None) -> list[Ref]:
    """Served workloads that call at least one dependency (optionally of one protocol)."""
    served = set(serving_workloads(parts))
    return [r for r in served_sorted(served) if any(
        d.call.required and (protocol is None or d.call.protocol == protocol)
        for d in dependencies(parts, parts.require(r)))]


def served_sorted(refs: set[Ref]) -> list[Ref]:
    return sorted(refs, key=str)


def main_container(workload: Obj, name: str | None = None) -> Obj:
    """The named container, or the first one (the app container by convention)."""
    containers = pod_spec(workload).get("containers") or []
    for c in containers:
        if name is None or c["name"] == name:
            return c
    raise FaultError(f"{ref_of(workload)} has no container {name!r}")


def behaviour(parts: Parts, container: Obj) -> ImageBehaviour:
    b = image_of(parts, container)
    if b is None:
        raise FaultError(f"image {container.get('image')!r} is not in the registry")
    return b


def listen_port(parts: Parts, container: Obj) -> int:
    b = behaviour(parts, container)
    if not b.listen:
        raise FaultError(f"image {container['image']!r} listens on no port")
    return b.listen[0].port


def restart(parts: Parts, workload: Ref) -> Obj:
    """`kubectl rollout restart`: a new pod template, hence a new ReplicaSet at the fault time."""
    obj = parts.edit(workload)
    md = obj["spec"]["template"].setdefault("metadata", {})
    md.setdefault("annotations", {})[RESTARTED_AT] = parts.fault_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return obj


def front_service(parts: Parts, workload: Ref) -> Ref | None:
    """The first Service selecting the workload (what its callers address)."""
    svcs = services_of(parts, parts.require(workload))
    return ref_of(svcs[0]) if svcs else None


def served_service_refs(parts: Parts, keep: Callable[[Obj], bool] = lambda _s: True) -> list[Ref]:
    """Services on the user's path (see `critical_services`) that select at least one running workload."""
    out = []
    for ref in critical_services(parts):
        svc = parts.require(ref)
        if keep(svc) and any((w["spec"].get("replicas", 1) or 0) > 0 for w in workloads_of(parts, svc)):
            out.append(ref)
    return sorted(out, key=str)


def pick(rng: random.Random, options: list[str]) -> str:
    return options[rng.randrange(len(options))]


def bump_tag(image: str, rng: random.Random) -> str:
    """A plausible next release tag: `1.20.2` → `1.20.3`, `2.0.2-cart` → `2.0.3-cart`."""
    repo, _, tag = image.rpartition(":")
    head, dash, suffix = tag.partition("-")
    nums = head.split(".")
    if nums and nums[-1].isdigit():
        nums[-1] = str(int(nums[-1]) + 1 + rng.randrange(2))
    return f"{repo}:{'.'.join(nums)}{dash}{suffix}"

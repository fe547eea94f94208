"""Container-state helpers shared by the crash, image-pull and container-config analyzers.

They read the same `status.containerStatuses` and report on the same owning workload (the
Deployment an SRE would change, not pod `x-5d9c-abcde`), so the grouping lives here once.
"""

from __future__ import annotations

from collections.abc import Callable

from atlas_sre.analyzers.base import Resource
from atlas_sre.analyzers.k8s import by_owner, live_pods, name_of, ns_of, status
from atlas_sre.analyzers.snapshot import Obj, Snapshot

PULL = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
CONFIG = frozenset({"CreateContainerConfigError", "CreateContainerError"})
CRASH = frozenset({"CrashLoopBackOff", "RunContainerError"})
Hits = dict[Resource, tuple[Obj, list[tuple[Obj, dict]]]]


def statuses(pod: Obj, init: bool = False) -> list[dict]:
    return list(status(pod).get("initContainerStatuses" if init else "containerStatuses") or [])


def waiting(cs: dict) -> dict:
    return (cs.get("state") or {}).get("waiting") or {}


def last_terminated(cs: dict) -> dict:
    """The last termination (lastState, else the current state when it is terminated)."""
    return (cs.get("lastState") or {}).get("terminated") or (cs.get("state") or {}).get("terminated") or {}


def pods_with(snap: Snapshot, test: Callable[[dict], bool], init: bool = False) -> Hits:
    """Pods with a container passing `test`, grouped by owner: {res: (owner, [(pod, container status)])}."""
    hits = [(p, cs) for p in live_pods(snap) for cs in statuses(p, init) if test(cs)]
    out: Hits = {}
    for res, (top, pods) in by_owner(snap, [p for p, _ in hits]).items():
        names = {name_of(p) for p in pods}
        out[res] = (top, [(p, cs) for p, cs in hits if name_of(p) in names and ns_of(p) == res.namespace])
    return out

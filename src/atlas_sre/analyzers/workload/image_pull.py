"""ATL203: images that cannot be pulled, with the reference and the kubelet's error.

Why: `ErrImagePull`/`ImagePullBackOff` stalls a rollout; the Failed event says whether the tag does
not exist, the registry refused, or the architecture does not match.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import events_text
from atlas_sre.analyzers.snapshot import Snapshot
from atlas_sre.analyzers.workload.states import PULL, pods_with, waiting

NAME_IMAGE = "image-pull"


class ImagePull(Check, name=NAME_IMAGE, codes=("ATL203",)):
    """Images that cannot be pulled: the reference and the kubelet's error."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        for res, (_, hits) in pods_with(snap, lambda cs: waiting(cs).get("reason") in PULL).items():
            pod, cs = hits[0]
            msgs = events_text(snap, pod, ["Failed"])
            message = waiting(cs).get("message") or (msgs[0] if msgs else "")
            yield self.finding(
                "ATL203", Level.ERROR, res,
                f"container {cs.get('name')} cannot pull image {cs.get('image')} "
                f"({waiting(cs).get('reason')}) in {len(hits)} pod(s): {message}".rstrip(": "),
                evidence=msgs[:2],
            )

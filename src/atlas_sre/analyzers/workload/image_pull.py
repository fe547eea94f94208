"""ATL203: images that cannot be pulled, with the reference and the kubelet's error.

Why: `ErrImagePull`/`ImagePullBackOff` stalls a rollout; the Failed event says whether the tag does
not exist, the registry refused, or the architecture does not match.
"""

from __future__ import annotations

from atlas_sre.analyzers.base import Finding, Level, finding
from atlas_sre.analyzers.k8s import events_text
from atlas_sre.analyzers.snapshot import Snapshot
from atlas_sre.analyzers.workload.states import PULL, pods_with, waiting

NAME_IMAGE = "image-pull"


class ImagePull:
    """Images that cannot be pulled: the reference and the kubelet's error."""

    name = NAME_IMAGE
    codes = ("ATL203",)

    def analyze(self, snap: Snapshot) -> list[Finding]:
        out: list[Finding] = []
        for res, (_, hits) in pods_with(snap, lambda cs: waiting(cs).get("reason") in PULL).items():
            pod, cs = hits[0]
            msgs = events_text(snap, pod, ["Failed"])
            message = waiting(cs).get("message") or (msgs[0] if msgs else "")
            out.append(
                finding(
                    NAME_IMAGE,
                    "ATL203",
                    Level.ERROR,
                    res,
                    f"container {cs.get('name')} cannot pull image {cs.get('image')} "
                    f"({waiting(cs).get('reason')}) in {len(hits)} pod(s): {message}".rstrip(": "),
                    evidence=msgs[:2],
                )
            )
        return out

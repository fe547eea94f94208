"""ATL204: containers the kubelet cannot create (CreateContainerConfigError): a missing ConfigMap,
Secret or key.

Why: the waiting message names the missing object (`configmap "x" not found`, `couldn't find key K
in ConfigMap ns/cm`), which is the thing to fix; it is returned as a related entity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import events_text, ns_of
from atlas_sre.analyzers.snapshot import Snapshot
from atlas_sre.analyzers.workload.states import CONFIG, pods_with, waiting

NAME_CONFIG = "container-config"
_REF = re.compile(r'(configmap|secret) "([^"]+)" not found|in (ConfigMap|Secret) ([\w.-]+)/([\w.-]+)', re.I)


class ContainerConfig(Check, name=NAME_CONFIG, codes=("ATL204",)):
    """Containers the kubelet cannot create: missing ConfigMaps, Secrets or keys."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        for res, (_, hits) in pods_with(snap, lambda cs: waiting(cs).get("reason") in CONFIG).items():
            pod, cs = hits[0]
            message = str(waiting(cs).get("message") or "")
            related = []
            m = _REF.search(message)
            if m and m.group(1):
                kind = "ConfigMap" if m.group(1).lower() == "configmap" else "Secret"
                related.append(Resource(kind, m.group(2), ns_of(pod)).entity)
            elif m:
                related.append(Resource(m.group(3), m.group(5), m.group(4)).entity)
            yield self.finding(
                "ATL204", Level.ERROR, res,
                f"container {cs.get('name')} cannot be created ({waiting(cs).get('reason')}) in "
                f"{len(hits)} pod(s): {message}".rstrip(": "),
                evidence=events_text(snap, pod, ["Failed"])[:2], related=related,
            )

"""ATL231 (a ResourceQuota refuses new pods) and ATL232 (a quota is used up).

Why: with an exhausted quota the ReplicaSet cannot create pods at all, so there is no Pending pod
to look at; the only trace is the ReplicaSet's `FailedCreate ... exceeded quota: <name>` event.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import name_of, ns_of, owner, status
from atlas_sre.analyzers.snapshot import Snapshot, event_message
from atlas_sre.kube.quantity import parse_quantity_float as parse_quantity

NAME = "quota"
_EXCEEDED = re.compile(r"exceeded quota: ([\w.-]+)")


class Quota(Check, name=NAME, codes=("ATL231", "ATL232")):
    """ResourceQuotas must leave room for the workloads in their namespace."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        refused: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for ev in snap.events("FailedCreate"):
            m = _EXCEEDED.search(event_message(ev))
            ref = ev.get("involvedObject") or ev.get("regarding") or {}
            if m:
                ns = str(ref.get("namespace") or "")
                obj = snap.get(str(ref.get("kind")), ns, str(ref.get("name")))
                who = (
                    Resource.of(owner(snap, obj)).entity
                    if obj
                    else f"{ns}/{ref.get('kind')}/{ref.get('name')}"
                )
                refused.setdefault((ns, m.group(1)), []).append((who, event_message(ev)))
        for quota in snap.of_kind("ResourceQuota"):
            key = (ns_of(quota), name_of(quota))
            hard, used = status(quota).get("hard") or {}, status(quota).get("used") or {}
            full = [
                f"{r} {used.get(r)}/{hard[r]}"
                for r in sorted(hard)
                if r in used and parse_quantity(used[r]) >= parse_quantity(hard[r]) > 0
            ]
            if key in refused:
                who = sorted({w for w, _ in refused[key]})
                yield self.finding(
                    "ATL231",
                    Level.ERROR,
                    quota,
                    f"ResourceQuota {key[1]} refuses new pods for {', '.join(who)}"
                    + (f" ({', '.join(full)} used)" if full else "")
                    + ".",
                    evidence=[refused[key][0][1]],
                    related=who,
                )
            elif full:
                yield self.finding(
                    "ATL232",
                    Level.WARNING,
                    quota,
                    f"ResourceQuota {key[1]} is used up ({', '.join(full)}); the next pod in "
                    f"{key[0]} will be refused.",
                )

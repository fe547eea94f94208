"""ATL223: a Service `targetPort` that is not a port the selected containers declare.

Why: endpoints then point at `podIP:wrongPort`, the pods look healthy, and callers get
`connection refused` (`503 UF ... delayed_connect_error:_111`). Only pods that declare their ports
can be checked; a pod spec with no `ports` at all is skipped rather than guessed about.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import PROXY, SYSTEM_NAMESPACES, name_of, ns_of, pod_spec, service_pods, spec
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "target-port"


class TargetPort(Check, name=NAME, codes=("ATL223",), kind="Service"):
    """Service target ports must be ports the selected pods declare."""

    def check(self, snap: Snapshot, svc: Obj) -> Iterator[Finding]:
        if ns_of(svc) in SYSTEM_NAMESPACES:
            return
        pods = service_pods(snap, svc)
        if not pods:
            return
        containers = [c for c in pod_spec(pods[0]).get("containers") or [] if c.get("name") != PROXY]
        declared = [(c.get("name"), p) for c in containers for p in c.get("ports") or []]
        if not declared:
            return
        numbers = {int(p.get("containerPort", 0)) for _, p in declared}
        names = {str(p.get("name")) for _, p in declared if p.get("name")}
        ports = spec(svc).get("ports") or []
        misses = []
        for port in ports:
            target = port.get("targetPort", port.get("port"))
            named = isinstance(target, str) and not target.isdigit()
            if not (str(target) in names if named else int(target) in numbers):
                misses.append((port, target, named))
        listed = ", ".join(
            f"{c}:{p.get('containerPort')}" + (f"/{p['name']}" if p.get("name") else "") for c, p in declared
        )
        for port, target, named in misses:
            # Declaring container ports is optional: an undeclared number beside declared ones may still be
            # served, so only a named miss or a Service with no port landing anywhere is an error.
            level = Level.ERROR if named or len(misses) == len(ports) else Level.INFO
            effect = "connections are refused." if level is Level.ERROR else "it must listen there undeclared."
            yield self.finding(
                "ATL223", level, svc,
                f"Port {port.get('name') or port.get('port')} (port: {port.get('port')}) targets "
                f"{target}, which no selected container declares (pods of {name_of(svc)} expose "
                f"{listed}); {effect}",
                evidence=[f"pod {ns_of(pods[0])}/{name_of(pods[0])}"],
            )

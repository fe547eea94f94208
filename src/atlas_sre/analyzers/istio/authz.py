"""AuthorizationPolicies that block real traffic (istioctl does not evaluate policy logic).

Evidence first: the destination's istio-proxy logs `403 ... rbac_access_denied_matched_policy[ns[N]-
policy[P]-rule[I]]` for a DENY match and `...[none]` when no ALLOW rule matched, so the logs name
the guilty policy. Without logs, static rules still catch the usual mistakes.

- ATL110 Error: a DENY policy matched live requests (from access logs).
- ATL111 Warning: a DENY rule with no conditions (denies every request).
- ATL112 Warning: a DENY rule that rejects common methods (GET/POST/...) from any source.
- ATL113 Error/Warning: requests match no ALLOW rule (logs), or an ALLOW policy admits principals
  whose ServiceAccounts do not exist, or relies on HTTP-only fields (methods, paths...) in front of
  a port Istio treats as TCP, where such rules never match (static).
- ATL126 Error/Warning (on the Service): the same HTTP-field rules in front of a port declared TCP
  whose own name or target container port says it carries HTTP or gRPC (`tcp-grpc`). The policy
  is right about the traffic and the port is not, so the finding names the Service: renaming the
  port is the fix. Without such a sign the port may really be TCP, and ATL113 names the policy.
- IST0127 Warning: the policy's selector matches no workload.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from atlas_sre.analyzers.accesslog import parse_lines
from atlas_sre.analyzers.base import Check, Finding, Level, Resource, finding
from atlas_sre.analyzers.istio.port_naming import TCP_FAMILY, carried_http, protocol_of, target_port
from atlas_sre.analyzers.k8s import by_owner, has_sidecar, live_pods, name_of, ns_of, pod_spec, service_pods, spec
from atlas_sre.analyzers.mesh import applies_to, workload_selector
from atlas_sre.analyzers.snapshot import LogRequest, Obj, Snapshot

NAME = "authz"
COMMON_METHODS = frozenset({"GET", "POST", "HEAD", "PUT"})


def policy_pods(snap: Snapshot, ap: Obj) -> list[Obj]:
    return [p for p in live_pods(snap) if has_sidecar(p) and applies_to(ap, p)]


def _one_per_workload(snap: Snapshot, pods: list[Obj]) -> list[Obj]:
    return [ps[0] for _, (_, ps) in by_owner(snap, pods).items()]


def _unconditional(rule: dict) -> bool:
    return not rule.get("from") and not rule.get("to") and not rule.get("when")


def _common_methods(rule: dict) -> list[str]:
    """Common methods a sourceless DENY rule rejects ([] when it has a source or narrower matchers)."""
    if rule.get("from") or rule.get("when"):
        return []
    hit: set[str] = set()
    for to in rule.get("to") or []:
        op = to.get("operation") or {}
        if op.get("paths") or op.get("hosts") or op.get("ports") or op.get("notMethods"):
            continue
        methods = {str(m).upper() for m in op.get("methods") or []}
        hit |= methods & COMMON_METHODS
    return sorted(hit)


def _missing_principals(snap: Snapshot, ap: Obj) -> list[str]:
    out = []
    for rule in spec(ap).get("rules") or []:
        for src in rule.get("from") or []:
            for p in (src.get("source") or {}).get("principals") or []:
                parts = str(p).split("/")
                if (
                    len(parts) == 5
                    and parts[1] == "ns"
                    and parts[3] == "sa"
                    and parts[2] in snap.namespaces()
                    and parts[4] != "default"  # every namespace has one, listed or not
                    and snap.has("ServiceAccount")
                    and snap.get("ServiceAccount", parts[2], parts[4]) is None
                ):
                    out.append(str(p))
    return out


def _http_only(rule: dict) -> bool:
    """Does an ALLOW rule depend on HTTP-only fields (which never match plain TCP traffic)?"""
    for src in rule.get("from") or []:
        if {"requestPrincipals", "notRequestPrincipals"} & set(src.get("source") or {}):
            return True
    for to in rule.get("to") or []:
        if set(to.get("operation") or {}) & {
            "hosts",
            "notHosts",
            "methods",
            "notMethods",
            "paths",
            "notPaths",
        }:
            return True
    return any(str(c.get("key", "")).startswith("request.") for c in rule.get("when") or [])


class TcpPort(NamedTuple):
    """A Service port Istio treats as TCP, and the HTTP-family protocol it says it carries (if any)."""

    service: Obj
    label: str  # `port NAME (N)`
    carries: str | None

    @property
    def ref(self) -> str:
        return f"{ns_of(self.service)}/{name_of(self.service)}"


def tcp_ports(snap: Snapshot, pods: list[Obj]) -> list[TcpPort]:
    """Service ports in front of these pods that Istio treats as TCP."""
    out = []
    names = {(ns_of(p), name_of(p)) for p in pods}
    for svc in snap.of_kind("Service"):
        backends = [p for p in service_pods(snap, svc) if (ns_of(p), name_of(p)) in names]
        if not backends:
            continue
        for port in spec(svc).get("ports") or []:
            if protocol_of(port) in TCP_FAMILY:
                carries = carried_http(port, target_port(port, pod_spec(backends[0])))
                out.append(TcpPort(svc, f"port {port.get('name')} ({port.get('port')})", carries))
    return out


def _misnamed_port(ap: Obj, port: TcpPort, http_rules: list[int], targets: str,
                   hits: list[tuple[tuple[str, str], tuple[int, str]]]) -> Finding:
    """ATL126 on the Service: a port declared TCP that says it carries HTTP, behind HTTP-field ALLOW rules."""
    denied = ""
    if hits:
        (ns, pod), (count, _) = hits[0]
        denied = f"; {count} live request(s) to {ns}/{pod} matched no ALLOW rule (403 " \
                 "rbac_access_denied_matched_policy[none])"
    return finding(
        NAME,
        "ATL126",
        Level.ERROR if hits else Level.WARNING,
        port.service,
        f"{port.label.capitalize()} is declared TCP but carries {port.carries}: AuthorizationPolicy "
        f"{ns_of(ap)}/{name_of(ap)} admits callers of {targets} by HTTP fields (rule(s) {http_rules}), "
        f"which never match TCP traffic{denied}. Name the port {port.carries} or set appProtocol: {port.carries}.",
        evidence=[hits[0][1][1]] if hits else [],
        related=[Resource.of(ap).entity],
    )


class AuthorizationPolicies(Check, name=NAME, codes=("ATL110", "ATL111", "ATL112", "ATL113", "ATL126", "IST0127")):
    """AuthorizationPolicies must not reject the traffic the application lives on."""

    def log_requests(self, snap: Snapshot) -> list[LogRequest]:
        pods = {id(p): p for ap in snap.of_kind("AuthorizationPolicy") for p in policy_pods(snap, ap)}
        return [LogRequest(ns_of(p), name_of(p)) for p in _one_per_workload(snap, list(pods.values()))]

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        denied, unmatched = self._from_logs(snap)
        for ap in snap.of_kind("AuthorizationPolicy"):
            pods = policy_pods(snap, ap)
            sel = workload_selector(ap)
            if sel and not pods:
                pretty = ",".join(f"{k}={v}" for k, v in sorted(sel.items()))
                yield self.finding(
                    "IST0127",
                    Level.WARNING,
                    ap,
                    f"No matching workloads for this resource with the following labels: {pretty}",
                )
                continue
            action = str(spec(ap).get("action") or "ALLOW").upper()
            key = (ns_of(ap), name_of(ap))
            targets = ", ".join(r.entity for r in by_owner(snap, pods)) or "no workload"
            if action == "DENY" and key in denied:
                count, sample, pod = denied[key]
                yield self.finding(
                    "ATL110",
                    Level.ERROR,
                    ap,
                    f"DENY policy matched {count} live request(s) in {pod}'s istio-proxy log (403 RBAC: "
                    "access "
                    f"denied); it blocks traffic to {targets}.",
                    evidence=[sample],
                )
            elif action == "DENY":
                yield from self._static_deny(ap, targets)
            elif action == "ALLOW":
                yield from self._allow(snap, ap, pods, targets, unmatched)

    @staticmethod
    def _allow(
        snap: Snapshot,
        ap: Obj,
        pods: list[Obj],
        targets: str,
        unmatched: dict[tuple[str, str], tuple[int, str]],
    ) -> list[Finding]:
        hits = [(pod, v) for pod, v in unmatched.items() if any(name_of(p) == pod[1] for p in pods)]
        missing = _missing_principals(snap, ap)
        http_rules = [i for i, rule in enumerate(spec(ap).get("rules") or []) if _http_only(rule)]
        tcp = tcp_ports(snap, pods) if http_rules else []
        misnamed = [t for t in tcp if t.carries] if not missing else []
        if misnamed:
            return [_misnamed_port(ap, misnamed[0], http_rules, targets, hits)]
        why = [f"admits missing principals {', '.join(missing)}"] if missing else []
        if tcp:
            why.append(
                f"rule(s) {http_rules} use HTTP-only fields but {tcp[0].label} of Service {tcp[0].ref} is "
                "declared TCP, so they never match"
            )
        related = [Resource("ServiceAccount", m.split("/")[4], m.split("/")[2]).entity for m in missing]
        related += [Resource.of(t.service).entity for t in tcp]
        if hits:
            (ns, pod), (count, sample) = hits[0]
            return [
                finding(
                    NAME,
                    "ATL113",
                    Level.ERROR,
                    ap,
                    f"{count} live request(s) to {ns}/{pod} matched no ALLOW rule (403 "
                    f"rbac_access_denied_matched_policy[none]); this policy decides who may call {targets}"
                    + (f"; it {'; '.join(why)}" if why else "")
                    + ".",
                    evidence=[sample],
                    related=related,
                )
            ]
        if why:
            return [
                finding(
                    NAME,
                    "ATL113",
                    Level.WARNING,
                    ap,
                    f"ALLOW policy {'; '.join(why)}: callers of {targets} are denied.",
                    related=related,
                )
            ]
        return []

    @staticmethod
    def _static_deny(ap: Obj, targets: str) -> list[Finding]:
        for i, rule in enumerate(spec(ap).get("rules") or []):
            if _unconditional(rule):
                return [
                    finding(
                        NAME,
                        "ATL111",
                        Level.WARNING,
                        ap,
                        f"DENY rule[{i}] has no conditions: every request to {targets} is rejected.",
                    )
                ]
            methods = _common_methods(rule)
            if methods:
                return [
                    finding(
                        NAME,
                        "ATL112",
                        Level.WARNING,
                        ap,
                        f"DENY rule[{i}] rejects {'/'.join(methods)} requests from any source to {targets}.",
                    )
                ]
        return []

    @staticmethod
    def _from_logs(snap: Snapshot) -> tuple[dict, dict]:
        denied: dict[tuple[str, str], tuple[int, str, str]] = {}
        unmatched: dict[tuple[str, str], tuple[int, str]] = {}
        for req, lines in sorted(snap.logs.items()):
            for line in parse_lines(lines):
                hit = line.rbac_policy
                if hit is None:
                    continue
                if hit[2] < 0:
                    n, sample = unmatched.get((req.namespace, req.pod), (0, line.raw))
                    unmatched[(req.namespace, req.pod)] = (n + 1, sample)
                else:
                    n, sample, pod = denied.get((hit[0], hit[1]), (0, line.raw, f"{req.namespace}/{req.pod}"))
                    denied[(hit[0], hit[1])] = (n + 1, sample, pod)
        return denied, unmatched

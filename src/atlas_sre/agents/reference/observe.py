"""What the reference student learns from one command's output: pods, owners, candidates, follow-ups.

`Observer` is the student's memory. It is fed `(command, output)` pairs and nothing else, so the
student's knowledge is exactly what an LLM would have read. Evidence comes from the data file's
rules (`evidence_rules.yaml`); this module only knows generic Kubernetes conventions: kubectl's
table layouts, `describe` headers, and how pods are named after their owners.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from atlas_sre.agents.reference.data import EvidenceRule, EvidenceRules
from atlas_sre.agents.reference.kube import (
    DEPLOYMENT_POD,
    MESH_WIDE_KINDS,
    SYSTEM_NAMESPACES,
    Command,
    PodRow,
    owner_by_name,
    parse_pods,
    parse_services,
)
from atlas_sre.agents.reference.mesh import (
    failing,
    fault_injections,
    gateway_problems,
    missing_subsets,
    parse_access_lines,
    route_problems,
    tls_conflicts,
    yaml_objects,
)


@dataclass
class Candidate:
    entity: str
    category: str
    confidence: float
    evidence: str
    rule: str
    exempt: bool = False  # not discounted for lying outside the incident's namespaces


@dataclass
class Observer:
    """The reference student's memory of everything it has read."""

    rules: EvidenceRules
    default_ns: str
    pods: dict[tuple[str, str], PodRow] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    facts: set[str] = field(default_factory=set)
    candidates: dict[str, Candidate] = field(default_factory=dict)
    objects: dict[str, dict] = field(default_factory=dict)
    chained: set[tuple[str, str]] = field(default_factory=set)
    services: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    focus_namespaces: frozenset[str] = frozenset()
    off_focus_factor: float = 0.6
    incident_text: str = ""

    # -- candidates -------------------------------------------------------------------------------

    def propose(self, entity: str, category: str, confidence: float, evidence: str, rule: str,
                exempt: bool = False) -> None:
        """Keep the strongest evidence per entity."""
        old = self.candidates.get(entity)
        if old is None or confidence > old.confidence:
            self.candidates[entity] = Candidate(entity, category, confidence, evidence[:300], rule, exempt)

    def relevance(self, entity: str) -> float:
        """1, or `off_focus_factor` for an object outside the namespaces the incident is about.

        An SRE discounts a broken exporter in `monitoring` while the shop's alerts fire; mesh-wide
        policy in istio-system (the root namespace) still applies everywhere, so it is not discounted.
        """
        parts = entity.split("/")
        kind = parts[-2] if len(parts) >= 2 else ""
        if kind in self.rules.low_relevance_kinds and kind.lower() not in self.incident_text.lower():
            return self.rules.low_relevance_factor
        if len(parts) != 3 or not self.focus_namespaces or parts[0] in self.focus_namespaces:
            return 1.0
        if parts[0] == "istio-system" and parts[1] in MESH_WIDE_KINDS:
            return 1.0
        return self.off_focus_factor

    def ranked(self) -> list[Candidate]:
        """Candidates by relevance-weighted confidence (stored confidences stay as the rules set them)."""
        weighted = [Candidate(c.entity, c.category,
                              round(c.confidence * (1.0 if c.exempt else self.relevance(c.entity)), 4), c.evidence,
                              c.rule, c.exempt) for c in self.candidates.values()]
        return sorted(weighted, key=lambda c: (-c.confidence, c.entity))

    # -- pods and owners --------------------------------------------------------------------------

    def owner(self, namespace: str, pod: str) -> str:
        return self.owners.get((namespace, pod)) or owner_by_name(namespace, pod)

    def suspicious_pods(self) -> list[PodRow]:
        """Pods worst first; application namespaces before system ones."""
        rows = list(self.pods.values())
        return sorted(rows, key=lambda r: (r.namespace in SYSTEM_NAMESPACES, *r.badness, r.namespace, r.name))

    def pods_of(self, service: str, namespace: str | None = None) -> list[PodRow]:
        """Pods named after `service` (`reviews` → `reviews-v1-…`), healthiest first."""
        rows = [r for r in self.pods.values() if (namespace is None or r.namespace == namespace)
                and (r.name.startswith(service + "-") or owner_by_name(r.namespace, r.name).endswith("/" + service))]
        return sorted(rows, key=lambda r: (r.ready < r.total, r.total < 2, r.name))

    # -- reading one observation ------------------------------------------------------------------

    def read(self, line: str, output: str) -> list[str]:
        """Learn from `output` of `line`; return follow-up command templates (may hold placeholders)."""
        cmd = Command.parse(line)
        ns = cmd.namespace or self.default_ns
        subject, subject_ns = cmd.subject, ns
        if cmd.source in ("describe_pod", "describe"):
            m_name, m_ns = re.search(r"^Name:\s+(\S+)", output, re.M), re.search(r"^Namespace:\s+(\S+)", output, re.M)
            subject = m_name.group(1) if m_name else subject
            subject_ns = m_ns.group(1) if m_ns else subject_ns
        if cmd.source == "get_pods":
            for row in parse_pods(output, ns):
                self.pods[(row.namespace, row.name)] = row
            self._rollout_regressions()
        if cmd.source == "describe_pod" and subject:
            self._learn_owner(subject_ns, subject, output)
        followups: list[str] = []
        if cmd.source == "analyze":
            self._read_analyzer(output)
        if cmd.source == "proxy_logs":
            followups += self._read_envoy(output, subject_ns, subject)
        if cmd.source == "services":
            self.services.update(parse_services(output, ns))
            self._cross_check()
        if cmd.source == "yaml":
            followups += self._read_yaml(output)
        for rule in self.rules.rules:
            if cmd.source in rule.sources or "any" in rule.sources:
                followups += self._apply(rule, output, subject, subject_ns)
        return followups

    def _rollout_regressions(self) -> None:
        """A Deployment whose newer ReplicaSet's pods fail while the older one's run was broken by its last change."""
        by_owner: dict[str, dict[str, list[PodRow]]] = {}
        for row in self.pods.values():
            m = DEPLOYMENT_POD.match(row.name)
            if m:
                owner = f"{row.namespace}/Deployment/{m['owner']}"
                by_owner.setdefault(owner, {}).setdefault(m["hash"], []).append(row)
        for owner, sets in by_owner.items():
            healthy = [h for h, rows in sets.items() if all(r.badness[0] and r.ready == r.total for r in rows)]
            broken = [h for h, rows in sets.items() if all(not r.badness[0] or r.ready < r.total for r in rows)]
            if healthy and broken:
                self.propose(owner, "Misconfiguration", 0.89,
                             f"pods of ReplicaSet {owner.split('/')[2]}-{broken[0]} fail while those of "
                             f"{owner.split('/')[2]}-{healthy[0]} run: the Deployment's last change broke it",
                             "rollout-regression")

    def _learn_owner(self, ns: str, pod: str, text: str) -> None:
        by = re.search(r"^Controlled By:\s+(\w+)/(\S+)", text, re.M)
        if not by:
            return
        kind, name = by.group(1), by.group(2)
        if kind == "ReplicaSet":
            h = re.search(r"pod-template-hash=([a-z0-9]+)", text)
            if h and name.endswith("-" + h.group(1)):
                kind, name = "Deployment", name[: -len(h.group(1)) - 1]
        self.owners[(ns, pod)] = f"{ns}/{kind}/{name}"

    def _apply(self, rule: EvidenceRule, output: str, subject: str | None, ns: str) -> list[str]:
        base = {"subject": subject or "", "subject_ns": ns}
        if any(req.format(**base) not in self.facts for req in rule.requires):
            return []
        followups: list[str] = []
        for m in rule.regex.finditer(output):
            values = dict(base, match=m.group(0).strip()[:200])
            for key, val in m.groupdict().items():
                stem = key.rstrip("0123456789")
                if val is not None and not values.get(stem):
                    values[stem] = val
            values = {k: v or "" for k, v in values.items()}
            try:
                self.facts.update(f.format(**values) for f in rule.sets)
                if rule.entity == "owner":
                    if subject:
                        self.propose(self.owner(ns, subject), rule.category, rule.confidence,
                                     rule.evidence.format(**values), rule.id)
                elif rule.entity != "none":
                    self.propose(rule.entity.format(**values), rule.category, rule.confidence,
                                 rule.evidence.format(**values), rule.id)
                followups += [f.format(**values) for f in rule.followups]
            except (KeyError, IndexError):
                continue
        return followups

    def _read_analyzer(self, output: str) -> None:
        spec = self.rules.analyzer
        for m in re.finditer(spec.pattern, output, re.MULTILINE):
            code = spec.codes.get(m["code"])
            confidence = code.confidence if code and code.confidence is not None else spec.levels.get(m["level"], 0)
            if spec.history and re.search(spec.history, m["message"]):
                confidence *= spec.history_factor
            if confidence <= 0:
                continue
            ns, _, name = m["ref"].rpartition("/")
            entity = f"{ns}/{m['kind']}/{name}" if ns else f"{m['kind']}/{name}"
            if m["kind"] == "Pod" and ns:
                entity = self.owner(ns, name)
            category = (code.category if code and code.category else None) or spec.default_category
            self.propose(entity, category, confidence, f"analyze: {m.group(0)}", f"analyzer:{m['code']}",
                         exempt=bool(code and code.focus_exempt))

    def _read_envoy(self, output: str, caller_ns: str, caller_pod: str | None) -> list[str]:
        env = self.rules.envoy
        followups: list[str] = []
        for m in re.finditer(env.rbac_policy.pattern, output):
            self.propose(env.rbac_policy.entity.format(**m.groupdict()), "Misconfiguration", env.rbac_policy.confidence,
                         f"istio-proxy log of {caller_pod}: {m.group(0)}", "envoy:rbac")
        if "rbac_access_denied_matched_policy[none]" in output:
            followups += [f.format(caller_ns=caller_ns) for f in env.rbac_none_followups]
        for (flag, dest, dest_ns, direction), count in failing(parse_access_lines(output, caller_ns)).most_common():
            values = {"dest": dest, "dest_ns": dest_ns, "caller_ns": caller_ns}
            if flag.startswith("via_upstream:"):
                if re.match(env.chain_codes, flag.split(":")[1]) and direction == "outbound" \
                        and (dest_ns, dest) not in self.chained:
                    self.chained.add((dest_ns, dest))
                    followups.append(f"kubectl logs {{pod_of:{dest_ns}/{dest}}} -n {dest_ns} -c istio-proxy --tail=100")
                continue
            rule = env.flags.get(flag)
            if rule is None:
                continue
            if rule.hypothesis:
                evidence = f"istio-proxy log of {caller_pod}: {count} request(s) to {dest} ended {flag}"
                self.propose(rule.hypothesis.format(**values), "Misconfiguration", rule.confidence, evidence,
                             f"envoy:{flag}")
            followups += [f.format(**values) for f in rule.followups]
        return followups

    def _read_yaml(self, output: str) -> list[str]:
        for obj in yaml_objects(output):
            md = obj.get("metadata", {})
            self.objects[f"{md.get('namespace', '')}/{obj['kind']}/{md.get('name')}"] = obj
        known = list(self.objects.values())
        for vs, dr, subset, names in missing_subsets(known):
            self.propose(dr, "Misconfiguration", 0.9, f"{vs} routes to subset {subset}, but {dr} defines only "
                         f"{', '.join(map(str, names)) or 'no subsets'}", "yaml:missing-subset")
        for vs, what in fault_injections(known):
            self.propose(vs, "Misconfiguration", 0.75, f"{vs}: {what}", "yaml:fault-injection")
        self._cross_check()
        return []

    def _cross_check(self) -> None:
        """Istio objects read so far against what exists: Services and ports, Gateways, mTLS modes."""
        known = list(self.objects.values())
        has_workload = lambda name, ns: bool(self.pods_of(name, ns))  # noqa: E731
        found = [*route_problems(known, self.services, has_workload),
                 *gateway_problems(known, self.incident_text), *tls_conflicts(known)]
        for entity, confidence, evidence in found:
            rule = "yaml:route-target" if "routes to" in evidence else "yaml:gateway" if "ateway" in evidence \
                else "yaml:tls-conflict"
            self.propose(entity, "Misconfiguration", confidence, evidence, rule)

"""NetworkPolicy faults: a policy that drops all ingress to a workload, one that drops its egress."""

from __future__ import annotations

import random

from atlas_sre.scenarios.faults.base import FaultArgs, Impact, Parts, Ref, Signature, fault
from atlas_sre.scenarios.faults.common import calling_workloads, front_service, serving_workloads

TIMEOUTS = Signature(alerts=("HighRequestErrorRate", "NoRequestsReceived"), flags=("UF", "URX"), proxy="client")


class PolicyArgs(FaultArgs):
    name: str | None = None
    allowMonitoring: bool = False  # keep a scrape port open (what the author meant to allow)


def _selector(parts: Parts, target: Ref) -> dict[str, str]:
    return dict((parts.require(target)["spec"].get("selector") or {}).get("matchLabels") or {})


def _monitoring_rule() -> dict:
    return {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
            "ports": [{"protocol": "TCP", "port": 15020}]}


@fault("ingress-port-blocking-network-policy", "Add a NetworkPolicy that blocks every ingress port of a workload.",
       category="Network", args=PolicyArgs, candidates=serving_workloads, symptom="timeouts", signature=TIMEOUTS,
       draw=lambda parts, target, rng: {"allowMonitoring": rng.random() < 0.5})
def INGRESS_BLOCK(parts: Parts, target: Ref, args: PolicyArgs, rng: random.Random) -> Impact:
    name = args.name or f"{target.name}-restrict-ingress"
    parts.add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": name, "namespace": target.namespace},
               "spec": {"podSelector": {"matchLabels": _selector(parts, target)}, "policyTypes": ["Ingress"],
                        "ingress": [_monitoring_rule()] if args.allowMonitoring else []}})
    return Impact(Ref("NetworkPolicy", name, target.namespace or "default"),
                  f"NetworkPolicy {name} drops all ingress to {target.name}'s service ports",
                  "connections time out (503 UF/URX)", impacted=front_service(parts, target), component=target)


@fault("egress-blocking-network-policy",
       "Add a NetworkPolicy that lets a workload reach DNS only, so its dependency calls time out.",
       category="Network", args=PolicyArgs, candidates=calling_workloads, symptom="timeouts", signature=TIMEOUTS)
def EGRESS_BLOCK(parts: Parts, target: Ref, args: PolicyArgs, rng: random.Random) -> Impact:
    name = args.name or f"{target.name}-restrict-egress"
    dns = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
           "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    parts.add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": name, "namespace": target.namespace},
               "spec": {"podSelector": {"matchLabels": _selector(parts, target)}, "policyTypes": ["Egress"],
                        "egress": [dns]}})
    return Impact(Ref("NetworkPolicy", name, target.namespace or "default"),
                  f"NetworkPolicy {name} only lets {target.name} reach DNS; its calls to dependencies time out",
                  f"{target.name} fails every call it makes", impacted=front_service(parts, target),
                  component=target)


FAULTS = [INGRESS_BLOCK, EGRESS_BLOCK]

"""Configuration faults: a dependency address changed, a required variable removed, a reference to a
ConfigMap that does not exist, corrupted Secret credentials, a pod DNS policy that cannot resolve."""

from __future__ import annotations

import random

from atlas_sre.scenarios.faults.base import FaultArgs, FaultError, Impact, Parts, Ref, Signature, fault, ref_of
from atlas_sre.scenarios.faults.common import (
    behaviour,
    calling_workloads,
    front_service,
    main_container,
    restart,
    serving_workloads,
    workload_refs,
)
from atlas_sre.scenarios.faults.topology import dependencies, pod_spec, workloads

ERRORS = Signature(alerts=("HighRequestErrorRate",), flags=("503", "500"), proxy="client")


class EnvArgs(FaultArgs):
    container: str | None = None
    name: str | None = None  # the env var; default: the first dependency address
    value: str | None = None  # default: the same host on a port nothing listens on


def _address_deps(parts: Parts, target: Ref) -> list:
    return [d for d in dependencies(parts, parts.require(target)) if d.env and d.call.required]


def _draw_env(parts: Parts, target: Ref, rng: random.Random) -> dict[str, object]:
    d = rng.choice(_address_deps(parts, target))
    value = next(e["value"] for e in main_container(parts.require(target)).get("env") or [] if e["name"] == d.env)
    host, _, port = str(value).rpartition(":")
    if rng.random() < 0.7 and port.isdigit():
        new = f"{host}:{rng.choice([int(port) + 1, 8080 if port != '8080' else 8081, 80])}"
    else:
        new = f"{host}-svc:{port}" if host else f"{value}-svc"
    return {"name": d.env, "value": new}


@fault("modified-kubernetes-workload-container-environment-variable",
       "Overwrite the env var through which a service finds a dependency (wrong port or host).",
       category="Misconfiguration", args=EnvArgs,
       candidates=lambda parts: [r for r in calling_workloads(parts) if _address_deps(parts, r)], symptom="errors",
       signature=ERRORS, draw=_draw_env)
def MODIFIED_ENV(parts: Parts, target: Ref, args: EnvArgs, rng: random.Random) -> Impact:
    deps = _address_deps(parts, target)
    name = args.name or (deps[0].env if deps else None)
    c = main_container(parts.edit(target), args.container)
    entry = next((e for e in c.get("env") or [] if e.get("name") == name and "value" in e), None)
    if entry is None:
        raise FaultError(f"fault modified-kubernetes-workload-container-environment-variable: container "
                         f"{c['name']} has no literal env var {name!r}")
    old = str(entry["value"])
    host, _, port = old.rpartition(":")
    value = args.value or f"{host}:{int(port) + 1 if port.isdigit() else 8080}"
    entry["value"] = value
    return Impact(target, f"env var {name} changed from {old} to {value}; {target.name} can no longer reach "
                  "that dependency", f"{target.name} fails requests that need {host or old}",
                  impacted=front_service(parts, target))


class RemoveEnvArgs(FaultArgs):
    container: str | None = None
    name: str | None = None  # default: the first variable the image requires


def _required_present(parts: Parts, target: Ref) -> list[str]:
    c = main_container(parts.require(target))
    have = {e.get("name") for e in c.get("env") or []}
    return [r.env for r in behaviour(parts, c).requires if r.env in have]


@fault("removed-kubernetes-workload-container-environment-variable",
       "Remove an environment variable the process requires at start-up.",
       category="Misconfiguration", args=RemoveEnvArgs,
       candidates=lambda parts: [r for r in workload_refs(parts) if _required_present(parts, r)], symptom="crashloop",
       signature=Signature(alerts=("KubePodCrashLooping",), events=("BackOff",), pod=("CrashLoopBackOff", "Error")))
def REMOVED_ENV(parts: Parts, target: Ref, args: RemoveEnvArgs, rng: random.Random) -> Impact:
    name = args.name or next(iter(_required_present(parts, target)), None)
    c = main_container(parts.edit(target), args.container)
    before = c.get("env") or []
    c["env"] = [e for e in before if e.get("name") != name]
    if len(c["env"]) == len(before):
        raise FaultError(f"fault removed-kubernetes-workload-container-environment-variable: container "
                         f"{c['name']} has no env var {name!r}")
    return Impact(target, f"env var {name}, required at start-up, was removed from container {c['name']}",
                  "containers exit at start and crash-loop")


class ConfigMapRefArgs(FaultArgs):
    configMap: str | None = None  # default: `<workload>-flags`, which does not exist
    key: str = "FEATURE_FLAGS"


@fault("nonexistent-kubernetes-workload-configmap-reference", "Source an env var from a ConfigMap that does not exist.",
       category="Misconfiguration", args=ConfigMapRefArgs, candidates=serving_workloads, symptom="rollout",
       signature=Signature(alerts=("KubeContainerWaiting", "KubePodNotReady"), events=("Failed",),
                           pod=("CreateContainerConfigError",)),
       draw=lambda parts, target, rng: {"configMap": f"{target.name}-{rng.choice(['flags', 'config', 'settings'])}",
                                        "key": rng.choice(["FEATURE_FLAGS", "LOG_LEVEL", "APP_CONFIG"])})
def MISSING_CONFIGMAP(parts: Parts, target: Ref, args: ConfigMapRefArgs, rng: random.Random) -> Impact:
    cm = args.configMap or f"{target.name}-flags"
    if parts.find(Ref("ConfigMap", cm, target.namespace)) is not None:
        raise FaultError(f"fault nonexistent-kubernetes-workload-configmap-reference: ConfigMap {cm!r} exists")
    c = main_container(parts.edit(target))
    c.setdefault("env", []).append({"name": args.key, "valueFrom": {"configMapKeyRef": {"name": cm, "key": args.key}}})
    return Impact(target, f"container {c['name']} takes {args.key} from ConfigMap {cm}, which does not exist",
                  "new pods stuck in CreateContainerConfigError")


class SecretArgs(FaultArgs):
    key: str | None = None  # default: the key a consumer checks
    value: str = "changeme"


def _consumers(parts: Parts, secret: Ref) -> list[tuple[Ref, str, str]]:
    """(workload, env var, key) for containers whose image checks an env var sourced from this Secret."""
    out = []
    for w in workloads(parts):
        if w["metadata"].get("namespace") != secret.namespace:
            continue
        for c in pod_spec(w).get("containers") or []:
            b = parts.registry.get(c.get("image", ""))
            checked = {r.env for r in (b.requires if b else []) if r.equals or r.matches}
            for e in c.get("env") or []:
                ref = (e.get("valueFrom") or {}).get("secretKeyRef") or {}
                if ref.get("name") == secret.name and e["name"] in checked:
                    out.append((ref_of(w), e["name"], ref["key"]))
    return out


def _secret_targets(parts: Parts) -> list[Ref]:
    return sorted((ref_of(s) for s in parts.manifests if s.get("kind") == "Secret" and _consumers(parts, ref_of(s))),
                  key=str)


@fault("corrupted-kubernetes-secret-credentials",
       "Overwrite the credentials in a Secret; its consumers restart and fail to authenticate.",
       category="Misconfiguration", args=SecretArgs, target_kind="Secret", candidates=_secret_targets,
       symptom="crashloop",
       signature=Signature(alerts=("KubePodCrashLooping",), events=("BackOff",), pod=("CrashLoopBackOff", "Error")),
       draw=lambda parts, target, rng: {"value": rng.choice(["changeme", "password123", "REPLACE_ME", ""])})
def CORRUPTED_SECRET(parts: Parts, target: Ref, args: SecretArgs, rng: random.Random) -> Impact:
    consumers = _consumers(parts, target)
    if not consumers:
        raise FaultError(f"fault corrupted-kubernetes-secret-credentials: no workload checks {target}")
    key = args.key or consumers[0][2]
    s = parts.edit(target)
    (s.get("data") or {}).pop(key, None)
    s.setdefault("stringData", {})[key] = args.value
    for w, _, k in consumers:
        if k == key:
            restart(parts, w)
    first = consumers[0][0]
    return Impact(target, f"Secret {target.name} key {key} was overwritten; restarted {first.name} pods fail "
                  "to authenticate and exit", "consumer pods crash-loop", related=[first], component=first)


class DnsArgs(FaultArgs):
    nameserver: str = "10.96.0.53"  # nothing answers DNS there


@fault("failing-name-resolution-kubernetes-workload-dns-policy",
       "Give the pods a DNS policy whose nameserver does not answer, so no dependency resolves.",
       category="Network", args=DnsArgs, candidates=calling_workloads, symptom="errors", signature=ERRORS,
       draw=lambda parts, target, rng: {"nameserver": rng.choice(["10.96.0.53", "169.254.20.11", "10.0.0.2"])})
def DNS_POLICY(parts: Parts, target: Ref, args: DnsArgs, rng: random.Random) -> Impact:
    spec = pod_spec(parts.edit(target))
    spec["dnsPolicy"] = "None"
    ns = target.namespace
    spec["dnsConfig"] = {"nameservers": [args.nameserver],
                         "searches": [f"{ns}.svc.cluster.local", "svc.cluster.local", "cluster.local"],
                         "options": [{"name": "ndots", "value": "5"}]}
    return Impact(target, f"dnsPolicy None with nameserver {args.nameserver}, which does not answer: "
                  f"{target.name} cannot resolve any dependency", f"{target.name} fails every call it makes",
                  impacted=front_service(parts, target))


FAULTS = [MODIFIED_ENV, REMOVED_ENV, MISSING_CONFIGMAP, CORRUPTED_SECRET, DNS_POLICY]

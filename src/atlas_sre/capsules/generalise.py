"""Turn one incident's concrete commands and sentences into reusable templates.

A capsule learnt on namespace `shop` and pod `checkout-7d9f8c6b5d-x2x4z` must apply to namespace
`payments` and workload `cart`, so every name that belongs to the incident becomes a parameter:

- commands are rewritten by *slot*, not by guessing words: the value of `-n`/`--namespace` becomes
  `{namespace}` (system namespaces such as `istio-system` stay literal: they are the same in every
  cluster); a pod argument (`kubectl logs POD`, `describe pod POD`) becomes `POD_PLACEHOLDER`; a
  workload argument (`deploy/NAME`, `describe deployment NAME`) `{workload}`; a service argument
  (`svc`, `endpoints`) `{service}`. Any other object name (a DestinationRule, a ConfigMap, a node)
  is kept as a placeholder only when it *is* a known workload/service name, and is otherwise
  dropped, so the command lists that type in the namespace: the next incident's culprit has
  another name, and listing finds it where a stale name would not.
- free text (guidance sentences, evidence) gets `<namespace>`, `<workload>`, `<service>`, `<pod>`,
  `<name>` in place of the names, so procedures read naturally and never leak a concrete name.

`POD_PLACEHOLDER` is `{pod}` when the capsule model allows that parameter and `{workload}`
otherwise (the reference student reads `{workload}` as "the suspicious pod", and `kubectl
describe pod <workload>` matches pods by name prefix).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

from atlas_sre.capsules.model import PLACEHOLDERS
from atlas_sre.kube.names import SAFE_CHAR as _SAFE
from atlas_sre.kube.namespaces import WELL_KNOWN_NAMESPACES

POD_PLACEHOLDER = "{pod}" if "pod" in PLACEHOLDERS else "{workload}"
SIDECAR_CONTAINERS = frozenset({"istio-proxy", "istio-init", "istio-validation", "linkerd-proxy"})

# Kubernetes' random suffixes use a vowel-free alphabet (`rand.SafeEncodeString`), which is what
# tells `checkout-7d9f8c6b5d-x2x4z` (pod of Deployment `checkout`) from a name like `redis-cache`.
_POD_SUFFIX = re.compile(rf"-(?:{_SAFE}{{6,10}}-{_SAFE}{{5}}|\d{{6,}}-{_SAFE}{{5}}|{_SAFE}{{5}})$")
_RS_SUFFIX = re.compile(rf"-{_SAFE}{{6,10}}$")
_POD_IN_TEXT = re.compile(rf"\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-(?:{_SAFE}{{6,10}}|\d{{6,}})-{_SAFE}{{5}}\b")

WORKLOAD_KINDS = frozenset({"deployment", "statefulset", "daemonset", "replicaset", "job", "cronjob"})
_KIND_ALIASES: dict[str, str] = {
    "po": "pods", "pod": "pods", "deploy": "deployments", "deployment": "deployments",
    "sts": "statefulsets", "statefulset": "statefulsets", "ds": "daemonsets", "daemonset": "daemonsets",
    "rs": "replicasets", "replicaset": "replicasets", "job": "jobs", "cj": "cronjobs", "cronjob": "cronjobs",
    "svc": "services", "service": "services", "ep": "endpoints", "endpoint": "endpoints",
    "endpointslice": "endpointslices", "no": "nodes", "node": "nodes", "ns": "namespaces",
    "namespace": "namespaces", "cm": "configmaps", "configmap": "configmaps", "secret": "secrets",
    "pvc": "persistentvolumeclaims", "persistentvolumeclaim": "persistentvolumeclaims",
    "pv": "persistentvolumes", "hpa": "horizontalpodautoscalers", "netpol": "networkpolicies",
    "networkpolicy": "networkpolicies", "quota": "resourcequotas", "resourcequota": "resourcequotas",
    "vs": "virtualservices", "virtualservice": "virtualservices", "dr": "destinationrules",
    "destinationrule": "destinationrules", "gw": "gateways", "gateway": "gateways",
    "se": "serviceentries", "serviceentry": "serviceentries", "sidecar": "sidecars",
    "pa": "peerauthentications", "peerauthentication": "peerauthentications",
    "ap": "authorizationpolicies", "authorizationpolicy": "authorizationpolicies", "ev": "events",
    "event": "events", "pc": "priorityclasses", "priorityclass": "priorityclasses",
}
_WORKLOAD_TYPES = frozenset({"deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs"})
_SERVICE_TYPES = frozenset({"services", "endpoints", "endpointslices"})
_VALUE_FLAGS = frozenset({"-n", "--namespace", "-l", "--selector", "-c", "--container", "-o", "--output",
                          "--field-selector", "--tail", "--since", "--context", "--kubeconfig", "--sort-by",
                          "-L", "--label-columns", "--type", "--since-time", "--limit-bytes"})
_NAME_ARG_VERBS = frozenset({"get", "describe", "top", "logs", "log"})


def canonical_type(word: str) -> str:
    """`svc` → `services`, `DestinationRule.networking.istio.io` → `destinationrules`."""
    base = word.lower().split(".", 1)[0]
    return _KIND_ALIASES.get(base, base if base.endswith("s") else base + "s")


def strip_pod_suffix(name: str) -> str:
    """`checkout-7d9f8c6b5d-x2x4z` → `checkout`; `mongodb-0` → `mongodb`; `redis-cache` unchanged."""
    stripped = _POD_SUFFIX.sub("", name)
    return re.sub(r"-\d{1,3}$", "", stripped) if stripped == name else stripped


@dataclass
class Names:
    """The incident's own names, by role (what generalisation must replace)."""

    namespaces: set[str] = field(default_factory=set)
    workloads: set[str] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    pods: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)

    def add_entity(self, ref: str) -> None:
        """`ns/Kind/name` or `Kind/name` (a diagnosis entity)."""
        parts = ref.split("/")
        if len(parts) == 3:
            self.add_namespace(parts[0])
        if len(parts) < 2:
            return
        kind, name = parts[-2].lower(), parts[-1]
        if kind == "pod":
            self.pods.add(name)
            self.workloads.add(strip_pod_suffix(name))
        elif kind in WORKLOAD_KINDS:
            self.workloads.add(_RS_SUFFIX.sub("", name) if kind == "replicaset" else name)
        elif kind == "service":
            self.services.add(name)
        elif kind == "namespace":
            self.add_namespace(name)
        else:
            self.objects.add(name)

    def add_namespace(self, name: str) -> None:
        if name and name not in WELL_KNOWN_NAMESPACES:
            self.namespaces.add(name)

    def placeholder(self, name: str) -> str | None:
        """The command placeholder of a known name, or None."""
        if name in self.namespaces:
            return "{namespace}"
        if name in self.pods or (name not in self.workloads and strip_pod_suffix(name) in self.workloads
                                 and strip_pod_suffix(name) != name):
            return POD_PLACEHOLDER
        if name in self.workloads:
            return "{workload}"
        if name in self.services:
            return "{service}"
        return None

    def text_map(self) -> list[tuple[str, str]]:
        """(name, `<role>`) pairs, longest name first so `reviews-v1` wins over `reviews`."""
        roles: dict[str, str] = {}
        for role, names in (("<name>", self.objects), ("<service>", self.services),
                            ("<workload>", self.workloads), ("<pod>", self.pods),
                            ("<namespace>", self.namespaces)):
            for n in names:
                if len(n) >= 2:
                    roles[n] = role
        return sorted(roles.items(), key=lambda kv: (-len(kv[0]), kv[0]))


def _name_pattern(name: str) -> re.Pattern[str]:
    # A name is bounded by anything that cannot be part of a DNS label ('.', '/', quotes, spaces).
    return re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(name)}(?![A-Za-z0-9_-])")


def generalise_text(text: str, names: Names) -> str:
    """Replace the incident's names in prose with `<namespace>`/`<workload>`/`<service>`/`<pod>`/`<name>`."""
    text = _POD_IN_TEXT.sub("<pod>", text)
    for name, role in names.text_map():
        text = _name_pattern(name).sub(role, text)
    return text


def has_literal(text: str, names: Names) -> bool:
    """True when any of the incident's names (or a pod-looking name) is still in `text`."""
    if _POD_IN_TEXT.search(text):
        return True
    return any(_name_pattern(n).search(text) for n, _ in names.text_map())


def _split_words(segment: str) -> list[str]:
    try:
        return shlex.split(segment)
    except ValueError:
        return segment.split()


def _join(words: Iterable[str]) -> str:
    return " ".join(w if w and not re.search(r"[\s'\"|;&<>()$`\\]", w) else shlex.quote(w) for w in words)


def _selector(value: str, names: Names) -> str | None:
    """`app=checkout,version=v1` → `app={workload},version=v1`; None when nothing generic is left."""
    parts = []
    for item in value.split(","):
        key, sep, val = item.partition("=")
        if key.endswith("nodeName"):
            continue
        if key.endswith("involvedObject.name") and val:
            parts.append(f"{key}{sep}{names.placeholder(val) or POD_PLACEHOLDER}")
            continue
        ph = names.placeholder(val) if val else None
        parts.append(f"{key}{sep}{ph or val}")
    return ",".join(parts) or None


def _positional(kind: str | None, name: str, names: Names, system_ns: bool) -> str | None:
    """What a name argument becomes in its slot (None = drop it, the command then lists the type)."""
    if kind in (None, "pods"):
        return strip_pod_suffix(name) if system_ns else POD_PLACEHOLDER
    if system_ns:
        return name
    if kind in _WORKLOAD_TYPES:
        return "{workload}"
    if kind in _SERVICE_TYPES:
        return "{service}"
    if kind in ("namespaces",):
        return "{namespace}" if name in names.namespaces else None
    ph = names.placeholder(name)
    return ph if ph in ("{workload}", "{service}") else None


def _namespace_value(value: str) -> str:
    return value if value in WELL_KNOWN_NAMESPACES else "{namespace}"


def generalise_segment(words: list[str], names: Names) -> list[str]:
    """One pipeline segment's words with names replaced by slot (see the module docstring)."""
    out: list[str] = []
    positional: list[int] = []  # indexes into `out` of positional words
    ns_values = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-n", "--namespace")]
    ns_values += [w.split("=", 1)[1] for w in words if w.startswith("--namespace=")]
    system_ns = any(v in WELL_KNOWN_NAMESPACES for v in ns_values)
    i = 0
    while i < len(words):
        w = words[i]
        flag, eq, inline = w.partition("=") if w.startswith("--") else (w, "", "")
        if flag in _VALUE_FLAGS and (eq or i + 1 < len(words)):
            value = inline if eq else words[i + 1]
            i += 1 if eq else 2
            if flag in ("-n", "--namespace"):
                value = _namespace_value(value)
            elif flag in ("-l", "--selector", "--field-selector"):
                new = _selector(value, names)
                if new is None:
                    continue
                value = new
            elif flag in ("-c", "--container") and value not in SIDECAR_CONTAINERS:
                ph = names.placeholder(value)
                if ph is None:
                    continue  # an app container name: kubectl picks the default container
                value = ph
            out += [f"{flag}={value}"] if eq else [flag, value]
            continue
        if not w.startswith("-"):
            positional.append(len(out))
        out.append(w)
        i += 1
    if not out or out[0] != "kubectl" or len(positional) < 2:
        return [names.placeholder(w) or w if k in positional else w for k, w in enumerate(out)]
    verb_at = positional[1]
    verb = out[verb_at].lower()
    if verb not in _NAME_ARG_VERBS:
        return out
    rest = positional[2:]
    drop: set[int] = set()
    kind: str | None = None
    if verb in ("logs", "log"):
        targets = rest[:1]
    else:
        if not rest:
            return out
        type_word = out[rest[0]]
        if "/" in type_word:
            targets = rest
        else:
            kind = canonical_type(type_word.split(",")[0])
            targets = rest[1:]
    for k in targets:
        word = out[k]
        slot_kind, name = kind, word
        if "/" in word:
            type_word, name = word.split("/", 1)
            slot_kind = canonical_type(type_word)
        new = _positional(slot_kind, name, names, system_ns)
        if new is None:
            drop.add(k)
        else:
            out[k] = f"{type_word}/{new}" if "/" in word else new
    return [w for k, w in enumerate(out) if k not in drop]


def generalise_command(line: str, names: Names) -> str:
    """A command line with the incident's names turned into `{placeholders}` (pipes kept when generic)."""
    segments = [s.strip() for s in line.split("|")]
    out = [_join(generalise_segment(_split_words(segments[0]), names))]
    for seg in segments[1:]:
        text = _join(generalise_segment(_split_words(seg), names))
        if has_literal(text, names):
            continue  # `| grep checkout`: a filter on this incident's name does not transfer
        out.append(text)
    result = " | ".join(out)
    for name, _ in names.text_map():  # anything a slot did not catch (jsonpath, odd flags)
        ph = names.placeholder(name)
        if ph:
            result = _name_pattern(name).sub(ph, result)
    return result


def command_key(command: str) -> str:
    """What makes two generalised commands 'the same check': tool, verb, kind, placeholders, key flags.

    `-n`, `-o`, `--tail`, `--since` are dropped (how much of the same output one reads), kinds are
    canonical (`svc` = `services`), so `kubectl get svc -n {namespace}` and `kubectl get services -o
    wide -n {namespace}` are one check.
    """
    words = _split_words(command.split("|")[0])
    keep: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        flag = w.split("=", 1)[0] if w.startswith("--") else w
        if flag in ("-n", "--namespace", "-o", "--output", "--tail", "--since", "--limit-bytes"):
            i += 1 if "=" in w or i + 1 >= len(words) else 2
            continue
        keep.append(w)
        i += 1
    if len(keep) >= 3 and keep[0] == "kubectl" and keep[1] in ("get", "describe") and "/" not in keep[2]:
        keep[2] = ",".join(canonical_type(t) for t in keep[2].split(","))
    return " ".join(keep)

"""Free-text answer → `Diagnosis`: the cluster objects an answer names, found without a model.

Outside agents (HolmesGPT, k8sgpt, a chat model) answer in prose. Grading prose with an LLM judge
would make the benchmark's numbers depend on the judge; this reader is a set of written rules
instead (docs/outside-agents.md lists them and their measured agreement with hand labels):

1. find mentions: `ns/Kind/name`, `kind/name` (`deployment.apps/x`, `svc/x`), `name.ns.svc` hosts,
   "<kind> <name>" ("deploy x", "DestinationRule for reviews", `kubectl get dr reviews -n shop`),
   "<name> <kind>" ("the reviews DestinationRule", "checkout pods"), "the <Kind>" (the last one
   named, or the only one served), and bare workload or generated pod names;
2. resolve each against the served objects, given as `(namespace, kind, name)`: pods and
   ReplicaSets go to their workload by Kubernetes naming, Jobs of a CronJob to the CronJob;
3. give each mention a role from its clause (`cues.py`) and keep the causes, else what is named
   without a role, else the symptoms; dismissed objects ("not the cause") are never kept;
4. an answer that is only a tool call written as text (a small model that missed its framework's
   tool-call syntax) names nothing.

Grading owns this because it is part of scoring an answer; it never sees a scenario or the
simulator: the caller passes the served objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from atlas_sre.grading.cues import clause_cue, clauses, negated_before, roles
from atlas_sre.grading.diagnosis import Diagnosis, DiagnosisError, Entity, parse_diagnosis
from atlas_sre.grading.served import ObjectRef, Served, refs_of
from atlas_sre.grading.topology import canonical_kind, normalize_entity
from atlas_sre.kube.namespaces import INFRA_NAMESPACES

__all__ = ["Mention", "ObjectRef", "Served", "extract_diagnosis", "extract_entities", "mentions", "read_answer",
           "refs_of", "select"]

_NO_WORDS = frozenset({"no", "we", "po", "ing", "ra", "ns", "se", "sc", "pc", "ep", "ap", "quota", "endpoint"})
"""Short names that are also English words: never a kind in running text (paths still accept them)."""
_CONNECT = frozenset({"named", "called", "for", "of", "the", "resource", "object"})
_QUALIFY = frozenset({"istio", "kubernetes", "k8s", "mesh", "apps"})
_TOKEN = re.compile(r"-{0,2}[A-Za-z0-9_][A-Za-z0-9._/:=@-]*")
_DNS = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_HOST = re.compile(r"([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?")
_MARKUP = re.compile(r"[`*\"'“”‘’<>\[\]{}()|#]")
_MULTIWORD = re.compile(r"\b(virtual|destination|peer|authorization|request|service|config|stateful|daemon|replica|"
                        r"cron|network|horizontal pod|pod disruption|persistent volume|endpoint|role|cluster role)"
                        r" (service|rule|authentication|policy|entry|map|set|job|autoscaler|budget|claim|slice|"
                        r"binding|account)s?\b", re.I)
_CALL_WRAP = re.compile(r"^```[a-z]*\s*|\s*```$|</?tool_call>")
"""A Markdown fence or Hermes `<tool_call>` tags around an answer that is only a tool call."""
_K8SGPT = re.compile(r"^\s*\d+:\s+[A-Za-z]+\s+\S+", re.M)
"""k8sgpt's result header, `0: Pod shop/checkout-7d9f-x2x4z(Deployment/checkout)`: its objects are findings."""


@dataclass(frozen=True)
class Mention:
    """One object named in the answer: where, by which rule, in which role."""

    entity: str
    start: int
    rule: str
    role: str = "neutral"

    @property
    def explicit(self) -> bool:
        return self.rule != "bare"


def _word_kind(token: str) -> str | None:
    low = token.lower()
    if "/" in low or "." in low or low in _NO_WORDS or low.startswith("-"):
        return None
    return canonical_kind(low)


def _namespace_after(tokens: list[tuple[int, str]], j: int, served: Served) -> str | None:
    """`-n shop`, `--namespace=shop`, `in namespace shop`, `in the shop namespace` after a mention."""
    words = [t.lower() for _, t in tokens[j + 1:j + 5]]
    if words[:1] and words[0].startswith("--namespace="):
        return words[0].split("=", 1)[1]
    if len(words) >= 2 and words[0] in ("-n", "--namespace"):
        return words[1]
    if words[:1] == ["in"]:
        rest = [w for w in words[1:] if w not in ("the", "namespace", "ns")]
        if rest and rest[0] in served.namespaces:
            return rest[0]
    return None


def _keyed(clean: str, token: tuple[int, str]) -> bool:
    """`namespace: shop`, `"namespace": "shop"`, `namespace = shop`: a field saying where, not what is blamed."""
    start, tok = token
    return clean[start + len(tok):start + len(tok) + 4].lstrip()[:1] in (":", "=")


def _join_kind(m: re.Match[str]) -> str:
    """`virtual service` → `VirtualService ` (same length: offsets stay those of the answer)."""
    joined = "".join(w.capitalize() for w in m.group().split())
    return joined + " " * (len(m.group()) - len(joined))


def _split_ref(token: str, served: Served) -> tuple[str | None, str]:
    """`shop/checkout` after a kind word (k8sgpt, `kubectl get`): namespace and name; else the token."""
    ns, _, name = token.lower().partition("/")
    return (ns, name) if name and ns in served.namespaces else (None, token)


def mentions(text: str, served: Served) -> list[Mention]:
    """Every object `text` names, in order of appearance, with its role (the rules of the module doc)."""
    clean = _MULTIWORD.sub(_join_kind, _MARKUP.sub(" ", text))
    tokens = [(m.start(), m.group().rstrip(".:,-=")) for m in _TOKEN.finditer(clean)]
    found: list[Mention] = []
    used: set[int] = set()
    last_of_kind: dict[str, str] = {}

    def add(i: int, entity: str | None, rule: str, *consumed: int) -> bool:
        if entity is None:
            return False
        found.append(Mention(entity, tokens[i][0], rule))
        used.update((i, *consumed))
        last_of_kind[entity.split("/")[-2]] = entity
        return True

    for i, (_, tok) in enumerate(tokens):
        low = tok.lower()
        host = _HOST.fullmatch(low)
        if host:
            add(i, served.resolve("Service", host.group(1), host.group(2), "path"), "host")
        elif "/" in low and "://" not in low:
            parts = low.split("/")
            if len(parts) == 3 and (canonical_kind(parts[1]) or canonical_kind(parts[0])):
                e = normalize_entity(low)
                ns, kind, name = e.split("/") if e.count("/") == 2 else (None, *e.split("/"))
                add(i, served.resolve(canonical_kind(kind) or kind, name, ns, "path"), "path")
            elif len(parts) == 2 and canonical_kind(parts[0]):
                kind = canonical_kind(parts[0]) or ""
                add(i, served.resolve(kind, parts[1], _namespace_after(tokens, i, served), "path"), "path")
    for i, (_, tok) in enumerate(tokens):
        kind = None if i in used else _word_kind(tok)
        if kind is None:
            continue
        j = i + 1
        while j < len(tokens) and j - i <= 3 and tokens[j][1].lower() in _CONNECT:
            j += 1
        prev = tokens[i - 1][1].lower() if i else ""
        if kind == "Namespace" and (prev in ("in", "-n", "across") or prev == "the" and i >= 2
                                    and tokens[i - 2][1].lower() == "in" or _keyed(clean, tokens[i])):
            continue
        if j < len(tokens) and j not in used:
            ns, name = _split_ref(tokens[j][1], served)
            if add(i, served.resolve(kind, name, ns or _namespace_after(tokens, j, served), "word"), "kind-name", j):
                continue
        k = i - 1
        while k >= 0 and tokens[k][1].lower() in _QUALIFY:
            k -= 1
        before = [t.lower() for _, t in tokens[max(0, k - 2):k]]
        context = kind == "Namespace" and (before[-1:] in (["in"], ["-n"], ["across"]) or before == ["in", "the"])
        if k >= 0 and k not in used and not context and add(
                k, served.resolve(kind, tokens[k][1], _namespace_after(tokens, i, served), "word"), "name-kind", i):
            continue
        if kind == "Namespace" and k >= 0 and tokens[k][1].lower() in ("in", "-n", "across"):
            continue
        if k >= 0 and tokens[k][1].lower() in ("the", "this", "that", "its") and tok.lower() not in ("pod", "pods"):
            only = [key for key in served.where if key[0] == kind
                    and any(ns not in INFRA_NAMESPACES for ns in served.where[key])]
            entity = last_of_kind.get(kind) or (served.entity(kind, only[0][1], None) if len(only) == 1 else None)
            add(i, entity, "anaphora")
    for i, (_, tok) in enumerate(tokens):
        low = tok.lower()
        if i in used or not _DNS.fullmatch(low) or low in served.namespaces:
            continue
        owner = served.owner(low, lenient=False)
        if owner:
            add(i, served.entity(owner[0], owner[1], None), "bare" if low == owner[1] else "pod")
    return _with_roles(text, clean, sorted(found, key=lambda m: m.start))


_HEADING = 40
"""An objectless clause this short is a heading or a label ("Root cause:"): its cue carries on."""
_PRONOUN = re.compile(r"\W*(?:but|that|this|which|its|their)\b", re.I)


def _with_roles(text: str, clean: str, found: list[Mention]) -> list[Mention]:
    """Roles from each mention's clause (`cues.py`), plus rules across clauses: a cue with no object
    of its own applies to the clause before when it opens with a pronoun ("..., but that is only a
    symptom", "; that is the root cause"), else carries to the next ("**Root cause**" above the
    text); a k8sgpt finding header blames its objects; "not the X" dismisses X."""
    out: list[Mention] = []
    carry: str | None = None
    previous: list[int] = []
    headers = [(m.start(), m.end()) for m in _K8SGPT.finditer(text)]
    for a, b in clauses(text):  # `clean` keeps the answer's offsets: cut the original, read the clean
        cue = clause_cue(clean[a:b])
        inside = [m for m in found if a <= m.start < b]
        if not inside:
            role = {"negated": "negated", "strong": "cause", "cause": "cause", "effect": "effect"}.get(cue.kind)
            if role and previous and _PRONOUN.match(clean[a:b]):
                first = previous[:1] if role == "cause" else previous
                for k in first:
                    out[k] = Mention(out[k].entity, out[k].start, out[k].rule, role)
            elif role != "negated" and len(clean[a:b].strip()) <= _HEADING:
                carry = role or carry
            continue
        previous = []
        for m, role in zip(inside, roles(cue, [m.start - a for m in inside]), strict=True):
            if negated_before(clean, m.start):
                role = "negated"
            elif any(h0 <= m.start < h1 for h0, h1 in headers):
                role = "cause"
            elif role == "neutral" and carry:
                role = carry
            previous.append(len(out))
            out.append(Mention(m.entity, m.start, m.rule, role))
        carry = None
    return out


_TIERS = ("neutral", "effect")
"""After the causes: objects named without a role, then named symptoms (bare workload names never)."""


def select(found: Sequence[Mention]) -> tuple[list[str], list[str]]:
    """(blamed entities, other named entities), each in order of first mention.

    An entity's role is its best one: `cause` over `negated` over `neutral` over `effect` (named once
    as a cause, it is a cause; dismissed anywhere else, it is dismissed). Blamed are all causes;
    when there are none, the first non-empty tier of `_TIERS`.
    """
    rank = {"cause": 0, "negated": 1, "neutral": 2, "effect": 3}
    best: dict[str, str] = {}
    explicit: dict[str, bool] = {}
    for m in found:
        if m.entity not in best or rank[m.role] < rank[best[m.entity]]:
            best[m.entity] = m.role
        explicit[m.entity] = explicit.get(m.entity, False) or m.explicit
    order = list(dict.fromkeys(m.entity for m in found))
    chosen = [e for e in order if best[e] == "cause"]
    for role in _TIERS:
        chosen = chosen or [e for e in order if best[e] == role and explicit[e]]
    return chosen, [e for e in order if e not in chosen and best[e] != "negated"]


def extract_entities(text: str, objects: Sequence[ObjectRef], default_namespace: str | None = None) -> list[str]:
    """The entities a free-text answer blames, best first (empty when it names none)."""
    return select(mentions(text, Served(objects, default_namespace)))[0]


def extract_diagnosis(text: str, objects: Sequence[ObjectRef], default_namespace: str | None = None) -> Diagnosis:
    """A `Diagnosis` from free text: blamed entities as root causes, the other named ones as context."""
    blamed, others = select(mentions(text, Served(objects, default_namespace)))
    entities = [Entity(name=e, contributing_factor=True, reasoning="named as the cause") for e in blamed]
    entities += [Entity(name=e, contributing_factor=False, reasoning="named, not blamed") for e in others]
    return Diagnosis(entities=entities, summary=text.strip()[:1000])


def _call(data: object) -> bool:
    """A tool call in any of the common wire shapes: `{"name", "arguments"|"parameters"}`, `{"function": …}`,
    `{"tool_calls": [...]}`, or a list of them."""
    if isinstance(data, list):
        return bool(data) and all(_call(item) for item in data)
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("function"), dict) or isinstance(data.get("tool_calls"), list):
        return True
    return isinstance(data.get("name"), str) and ("arguments" in data or "parameters" in data)


def _unexecuted_call(text: str) -> bool:
    """The whole answer is a tool call written as text (`{"name": …, "arguments": …}`, fenced or tagged).

    A small model that does not write its framework's tool-call syntax hands back the call itself,
    and the framework prints it as the answer. Its arguments name objects (a namespace, a label, a
    to-do item), but nothing in it is a finding, so it blames nothing."""
    body = _CALL_WRAP.sub("", text.strip()).strip()
    if not body.startswith(("{", "[")):
        return False
    try:
        return _call(json.loads(body))
    except ValueError:
        return False


def read_answer(text: str, objects: Sequence[ObjectRef], default_namespace: str | None = None
                ) -> tuple[Diagnosis, str]:
    """An outside agent's stdout → (diagnosis, how): `json` when it holds our schema, `tool-call` when it
    is only an unexecuted tool call (no cause named), else `text`."""
    try:
        return parse_diagnosis(text, default_namespace), "json"
    except DiagnosisError:
        if _unexecuted_call(text):
            return Diagnosis(summary=text.strip()[:1000]), "tool-call"
        return extract_diagnosis(text, objects, default_namespace), "text"

"""Symptom words (a capsule's trigger) and evidence signatures (what proved the cause).

Both are read from *vocabularies*, never from the incident's free words, so no namespace, workload
or service name can leak into a trigger or a signature: a trigger is the HTTP codes, Envoy response
flags, alert names and symptom phrases ("restarting", "pending", "timeout") an incident states; a
signature is the machine-detectable part of the decisive output (`503 NC cluster_not_found`,
`IST0101`, `OOMKilled`, `Endpoints:\\s+<none>`). What no vocabulary covers falls back to the
evidence sentence with its names replaced by a regex wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from atlas_sre.capsules.generalise import Names, generalise_text
from atlas_sre.capsules.model import EvidencePattern

ENVOY_FLAGS = frozenset({
    "UH", "UF", "UO", "NR", "NC", "URX", "UT", "UC", "LR", "LH", "DC", "DI", "FI", "RL", "UAEX", "DPE",
    "UMSDR", "RLSE", "IH", "SI", "DF", "OM", "UPE", "NFCF",
})

# Symptom phrases an incident may state; matched case-insensitively on word boundaries and kept
# in the form written here. Order does not matter: the trigger keeps the incident's order.
SYMPTOM_PHRASES: tuple[str, ...] = (
    "CrashLoopBackOff", "crash loop", "crash-looping", "crashing", "crashes", "crash", "restarting",
    "restarts", "restarted", "OOMKilled", "out of memory", "OOM", "memory", "CPU", "throttled", "throttling",
    "Pending", "unschedulable", "FailedScheduling", "cannot be scheduled", "not ready", "NotReady",
    "unready", "readiness", "liveness", "probe", "timeout", "timeouts", "timed out", "latency", "slow",
    "hangs", "hanging",
    "stuck", "unavailable", "service unavailable", "no healthy upstream", "upstream connect error",
    "connection refused", "connection reset", "reset", "refused", "access denied", "denied", "forbidden",
    "unauthorized", "RBAC", "mTLS", "TLS", "certificate", "DNS", "name resolution", "no such host",
    "NXDOMAIN", "ImagePullBackOff", "ErrImagePull", "image pull", "evicted", "disk pressure", "volume",
    "PersistentVolumeClaim", "PVC", "mount", "quota", "exceeded", "ConfigMap", "Secret",
    "environment variable", "error rate", "errors", "error", "5xx", "4xx", "failing", "failed", "failures",
    "down", "unreachable", "not found", "init container", "exit code", "killed", "sidecar", "injection",
    "egress", "ingress", "network policy", "retries", "circuit breaker", "outlier", "ejected",
    "connection pool", "overflow", "degraded", "intermittent", "gateway", "routing", "no endpoints",
    "authentication failed", "credentials", "scheduling", "preempted", "preemption", "cordoned", "taint",
)
_PHRASES = sorted(SYMPTOM_PHRASES, key=len, reverse=True)
_PHRASE_RE = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(re.escape(p) for p in _PHRASES) + r")(?![A-Za-z0-9])",
                        re.IGNORECASE)
_CANONICAL = {p.lower(): p for p in SYMPTOM_PHRASES}
_HTTP_CODE = re.compile(r"(?<![\w.:/%-])([45]\d\d)(?![\w%.]|\s*(?:ms|MiB|Mi|m\b|seconds|pods|nodes))")
_FLAG_RE = re.compile(
    r"(?<![A-Za-z0-9])(" + "|".join(sorted(ENVOY_FLAGS, key=len, reverse=True)) + r")(?![A-Za-z0-9])")
_ALERT_LINE = re.compile(r"^\s*-\s*([A-Z][A-Za-z0-9]+)\s+\(", re.MULTILINE)


def _squash(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def alert_names(text: str, alerts: Iterable[dict[str, object]], names: Names) -> list[str]:
    """Alert names from alert dicts and from `Firing alerts:` lines, minus names that embed an entity."""
    found = [str(a.get("alertname")) for a in alerts if a.get("alertname")]
    found += _ALERT_LINE.findall(text)
    # Only names long enough not to be ordinary words ("rate", "user" are hotel-reservation services).
    entity_words = {_squash(n) for n, _ in names.text_map() if len(_squash(n)) >= 6}
    return [a for a in dict.fromkeys(found) if not any(w in _squash(a) for w in entity_words)]


def symptom_terms(text: str, alerts: Iterable[dict[str, object]] = (),
                  names: Names | None = None) -> list[str]:
    """Trigger terms: HTTP codes and Envoy flags, then alert names, then symptom phrases (each group
    in the incident's order). A phrase that *is* one of the incident's names is skipped."""
    names = names or Names()
    alerts = list(alerts)
    alert_text = "\n".join(str(a.get(k, "")) for a in alerts for k in ("summary", "description", "message"))
    text = text + "\n" + alert_text
    own = {n.lower() for n, _ in names.text_map()}
    codes: list[tuple[int, str]] = [(m.start(), f"HTTP {m.group(1)}") for m in _HTTP_CODE.finditer(text)]
    codes += [(m.start(), m.group(1)) for m in _FLAG_RE.finditer(text)]
    phrases = [_CANONICAL[m.group(1).lower()] for m in _PHRASE_RE.finditer(text)
               if m.group(1).lower() not in own]
    ordered = [t for _, t in sorted(codes)] + alert_names(text, alerts, names) + phrases
    return list(dict.fromkeys(ordered))


# -- evidence signatures ----------------------------------------------------------------------------

_ENVOY_LINE = re.compile(r"\s([45]\d\d) (-|[A-Z]{2,5}(?:,[A-Z]{2,5})*) ([a-z][a-z_]+)(?=\s|$)")
_ANALYZER_CODE = re.compile(r"(?<![A-Za-z0-9])((?:IST|ATL)\d{3,4})(?![0-9])")
_REASONS = (
    "OOMKilled", "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
    "CreateContainerError", "RunContainerError", "InvalidImageName", "FailedScheduling", "FailedMount",
    "FailedAttachVolume", "Evicted", "Preempting", "NodeNotReady", "SchedulingDisabled", "DeadlineExceeded",
    "BackoffLimitExceeded", "FailedCreatePodSandBox", "Init:CrashLoopBackOff", "Init:Error",
)
_REASON_RE = re.compile(r"(?<![A-Za-z:])(" + "|".join(re.escape(r) for r in _REASONS) + r")(?![A-Za-z])")
_PHRASE_SIGNATURES = (
    "no healthy upstream", "upstream connect error or disconnect/reset before headers", "connection refused",
    "no such host", "i/o timeout", "context deadline exceeded", "RBAC: access denied", "rbac_access_denied",
    "executable file not found", "exceeded quota", "Insufficient cpu", "Insufficient memory",
    "untolerated taint", "didn't match Pod's node affinity/selector",
    "unbound immediate PersistentVolumeClaims",
    "were unschedulable", "TLS error", "certificate verify failed", "authentication failed",
    "Back-off restarting failed container", "Back-off pulling image", "cluster_not_found", "route_not_found",
    "fault.abort", "fault filter abort", "crash-looping", "cannot be scheduled", "does not select any pods",
    "Referenced host+subset in destinationrule not found", "Referenced host not found",
    "Referenced gateway not found", "Readiness probe failed", "Liveness probe failed", "Startup probe failed",
    "has no endpoints", "no endpoints", "without an istio-proxy sidecar", "Sidecar injection is off",
    "DENY policy matched", "matched no ALLOW", "not found",
)
_REGEX_SIGNATURES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Endpoints:\s+<none>"), r"Endpoints:\s+<none>"),
    (re.compile(r"Exit Code:\s+(?!0\b)\d+"), ""),  # pattern built from the match
    (re.compile(r"exit code (?!0\b)\d+", re.IGNORECASE), ""),
)


def _catalogue(text: str) -> list[EvidencePattern]:
    """Signatures found in `text`, in the order they appear there."""
    hits: list[tuple[int, EvidencePattern]] = []
    for m in _ENVOY_LINE.finditer(" " + text):
        if m.group(2) == "-" or all(f in ENVOY_FLAGS for f in m.group(2).split(",")):
            hits.append((m.start(), EvidencePattern(pattern=f"{m.group(1)} {m.group(2)} {m.group(3)}")))
    hits += [(m.start(), EvidencePattern(pattern=m.group(1))) for m in _ANALYZER_CODE.finditer(text)]
    hits += [(m.start(), EvidencePattern(pattern=m.group(1))) for m in _REASON_RE.finditer(text)]
    lowered = text.lower()
    for phrase in _PHRASE_SIGNATURES:
        at = lowered.find(phrase.lower())
        if at >= 0:
            hits.append((at, EvidencePattern(pattern=phrase)))
    for rx, pattern in _REGEX_SIGNATURES:
        m = rx.search(text)
        if m:
            built = pattern or re.sub(r"\s+", r"\\s+", re.escape(m.group(0)).replace(r"\ ", " ")) + r"\b"
            hits.append((m.start(), EvidencePattern(pattern=built, regex=True)))
    return [p for _, p in sorted(hits, key=lambda h: h[0])]


def _subsumed(p: EvidencePattern, kept: list[EvidencePattern]) -> bool:
    return not p.regex and any(not k.regex and p.pattern.lower() in k.pattern.lower() for k in kept)


def _fallback(evidence: str, names: Names) -> EvidencePattern | None:
    """The evidence sentence itself, names → `\\S+`, whitespace → `\\s+` (a regex), if anything is left."""
    text = evidence.split(": ", 1)[1] if re.match(r"^[\w./<>-]+: ", evidence) else evidence
    text = generalise_text(text.strip(), names)[:160]
    if len(re.sub(r"<\w+>|\W", "", text)) < 6:
        return None
    parts = re.split(r"(<(?:namespace|workload|service|pod|name)>)", text)
    rx = "".join(r"\S+" if p.startswith("<") and p.endswith(">") else re.escape(p) for p in parts)
    return EvidencePattern(pattern=re.sub(r"(\\ )+", r"\\s+", rx), regex=True)


def evidence_signature(evidence: str, decisive_lines: list[str], names: Names,
                       limit: int = 4) -> list[EvidencePattern]:
    """Signatures of the decisive evidence: from the diagnosis' evidence text, else (nothing known
    there) from the decisive output lines; subsumed plain strings dropped (`cluster_not_found`
    inside `503 NC cluster_not_found`); generic `not found` only when nothing better exists."""
    found = _catalogue(evidence) or [p for line in decisive_lines for p in _catalogue(line)]
    specific = [p for p in found if p.pattern != "not found"] or found
    kept: list[EvidencePattern] = []
    for p in sorted(dict.fromkeys(specific), key=lambda p: -len(p.pattern) if not p.regex else 0):
        if p not in kept and not _subsumed(p, kept):
            kept.append(p)
    kept.sort(key=lambda p: specific.index(p))
    if not kept:
        fb = _fallback(evidence, names)
        kept = [fb] if fb else []
    return kept[:limit]

"""Words for generated scenarios: names, labels and the incident summary a user or on-call would write.

The summary is built from what the simulator shows (entry-point answers, unready workloads) and
the fault's symptom class, never from the cause: "Users of shop.example.com get HTTP 503 on about
40% of requests", not "the DestinationRule lacks subset v3".
"""

from __future__ import annotations

import random
from typing import Any

from atlas_sre.grading.truth import GroundTruth
from atlas_sre.scenarios.faults.base import Fault
from atlas_sre.scenarios.readiness import Observation

_DROP = {"kubernetes", "istio", "workload", "container", "service", "mesh"}


def short_id(fault_id: str) -> str:
    """`nonexistent-kubernetes-workload-container-image` → `nonexistent-image`."""
    words = [w for w in fault_id.split("-") if w not in _DROP]
    return "-".join(words[:3]) or fault_id


def scenario_name(app: str, faults: list[tuple[Fault, str]], index: int) -> str:
    """`online-shop-nonexistent-image-payment-007`; controls are `…-healthy-…`."""
    if not faults:
        return f"{app}-healthy-control-{index:03d}"
    parts = [f"{short_id(f.id)}-{target.rsplit('/', 1)[-1]}" for f, target in faults]
    return f"{app}-{'-and-'.join(parts)}-{index:03d}"


def complexity(faults: list[Fault], truth: GroundTruth) -> str:
    """easy / medium / hard from the number of faults, the propagation length and the layer."""
    score = len(truth.propagation) + 3 * (len(faults) - 1) + sum(1 for f in faults if f.domain == "service-mesh")
    return "easy" if score <= 1 else "medium" if score <= 3 else "hard"


def labels(app: str, faults: list[Fault], truth: GroundTruth) -> dict[str, str]:
    kind = "no-fault" if not faults else "multi-fault" if len(faults) > 1 else "single-fault"
    domain = "service-mesh" if any(f.domain == "service-mesh" for f in faults) else "kubernetes"
    return {"domain": domain, "complexity": complexity(faults, truth), "app": app, "type": kind}


def _pct(ratio: float) -> str:
    if ratio >= 0.97:
        return "all requests"
    if ratio >= 0.15:
        return f"about {int(round(ratio * 10) * 10)}% of requests"
    return "some requests"


def _entry_sentence(host: str, path: str, obs: Observation, rng: random.Random) -> str | None:
    failed = obs.failed_entries
    if not failed:
        return None
    name, ratio = max(failed.items(), key=lambda kv: kv[1])
    codes = {c: r for c, r in (obs.entries[name].get("codes") or {}).items() if not 200 <= int(c) < 400}
    code = max(codes, key=lambda c: codes[c]) if codes else "5xx"
    where = f"https://{host}{path}" if host else name
    if str(code) == "0":  # no HTTP answer at all: the connection was reset or timed out
        return rng.choice([f"Users cannot load {where}: {_pct(ratio)} end without a response (connection reset)",
                           f"Requests to {where} have been failing with connection errors for {{since}}"])
    return rng.choice([
        f"Users get HTTP {code} on {_pct(ratio)} to {where}",
        f"Requests to {where} have been failing with HTTP {code} for {{since}} ({_pct(ratio)})",
        f"Customers report errors on {where}: HTTP {code} on {_pct(ratio)}",
    ])


def _pod_sentence(fault: Fault, obs: Observation, rng: random.Random) -> str | None:
    if not obs.unready:
        return None
    owner = sorted(obs.unready)[0].split("/", 1)[1]
    reason = obs.unready[sorted(obs.unready)[0]]
    why = "" if reason in ("NotReady", "Pending", "Running") else f" ({reason})"
    by_class = {
        "crashloop": [f"The {owner} pods keep restarting{why}",
                      f"Pods of {owner} have been crash-looping for {{since}}"],
        "pending": [f"New {owner} pods have been Pending for {{since}}", f"The new {owner} pods cannot be scheduled"],
        "rollout": [f"The rollout of {owner} is stuck: new pods never become ready",
                    f"The new {owner} pods are not becoming ready after the latest deploy{why}"],
    }
    return rng.choice(by_class.get(fault.symptom, [f"The {owner} pods are not healthy{why}"]))


def _event_sentence(obs: Observation, rng: random.Random) -> str | None:
    """A rollout that creates no pod at all shows only in events (FailedCreate on its ReplicaSet)."""
    for ns, owner, reason in sorted(obs.warnings):
        if reason == "FailedCreate":
            return rng.choice([f"The rollout of {owner} is stuck: no new pods are being created",
                               f"Deployment {owner} in {ns} is not rolling out; its ReplicaSet reports {reason}"])
    return None


def _fallback(fault: Fault, host: str, path: str) -> str:
    where = f"https://{host}{path}" if host else "the application"
    return {
        "errors": f"Users get server errors on {where}",
        "forbidden": f"Requests to {where} are rejected",
        "not-found": f"{where} answers HTTP 404 for every request",
        "timeouts": f"Requests to {where} time out",
    }.get(fault.symptom, f"Something is wrong with {where}: on-call was paged")


def summary(faults: list[Fault], entry: dict[str, Any], obs: Observation | None, since: str,
            rng: random.Random) -> str:
    """The incident summary from the observed symptoms (only what a user or an alert would say)."""
    host, path = str(entry.get("host") or entry.get("service") or ""), str(entry.get("path") or "/")
    sentences: list[str] = []
    if obs is not None:
        s = _entry_sentence(host, path, obs, rng)
        if s:
            sentences.append(s)
        if not sentences or faults[0].symptom in ("crashloop", "pending", "rollout"):
            p = _pod_sentence(faults[0], obs, rng) or _event_sentence(obs, rng)
            if p:
                sentences.append(p)
    if not sentences:
        sentences.append(_fallback(faults[0], host, path))
    joined = [sentences[0]] + [t[0].lower() + t[1:] for t in sentences[1:]]
    return "; ".join(joined).replace("{since}", since)


CONTROL_SUMMARIES = [
    "A teammate saw pod restarts in the monitoring namespace and asks whether {host} is affected",
    "Weekly health check: confirm that {app} in namespace {ns} is healthy; there were warning events today",
    "Customer support forwarded one complaint about a slow page on {host}; no alert has fired",
    "A log search shows 'Forbidden' errors in the cluster; check whether {app} is impacted",
    "After last night's maintenance, verify that {host} serves requests normally",
]


def control_summary(app: str, ns: str, entry: dict[str, Any], rng: random.Random) -> str:
    host = str(entry.get("host") or entry.get("service") or app)
    return rng.choice(CONTROL_SUMMARIES).format(host=host, app=app, ns=ns)

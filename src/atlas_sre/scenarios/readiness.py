"""The readiness gate: a generated incident is accepted only if the simulator shows it.

A fault must produce a user-visible symptom (failing requests at an entry point, a pod that is
not running or not ready, a Warning event) *and* a firing alert, compared with the same scenario
without its faults, so red herrings never count as the fault's symptom. The base (no fault) must
be healthy: no failed request at any entry point and no alert. Everything is derived with the
real engine (`to_sim_spec` + `derive`), never predicted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atlas_sre.kube.namespaces import SYSTEM_NAMESPACES
from atlas_sre.scenarios.build import apply_app_and_faults
from atlas_sre.scenarios.compile import to_sim_spec
from atlas_sre.scenarios.model import Scenario
from atlas_sre.sim.engine import derive
from atlas_sre.sim.state import ClusterState

FAILED_RATIO = 0.001  # below this an entry point is healthy (rounding of rates)
# Warnings every pod start produces on a meshed cluster (istio-proxy's startup probe before it is
# listening): real, but not a symptom of anything.
STARTUP_NOISE = (":15021/healthz/ready",)


@dataclass
class Observation:
    """What a user, `kubectl get pods/events` and Alertmanager would show about one derived state."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # entry -> {rps, codes, error_ratio}
    unready: dict[str, str] = field(default_factory=dict)  # "ns/owner" -> STATUS-like reason
    warnings: set[tuple[str, str, str]] = field(default_factory=set)  # (ns, object owner, reason)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed_entries(self) -> dict[str, float]:
        return {k: float(v.get("error_ratio", 0.0)) for k, v in self.entries.items()
                if float(v.get("error_ratio", 0.0)) > FAILED_RATIO}


def _owner(name: str, kind: str) -> str:
    """Pods and ReplicaSets are compared by their workload: names carry per-rollout hashes."""
    if kind == "Pod" and name.count("-") >= 2:
        return name.rsplit("-", 2)[0]
    if kind == "ReplicaSet" and "-" in name:
        return name.rsplit("-", 1)[0]
    return name


ENTRY_KEY = "mesh_entrypoints"  # what the traffic engine says users saw, per entry point


def _entries(state: ClusterState) -> dict[str, dict[str, Any]]:
    return {str(e.get("entry")): e for e in state.extras.get(ENTRY_KEY) or []}


def _pod_problem(pod: dict[str, Any]) -> str | None:
    status = pod.get("status") or {}
    phase = status.get("phase")
    if phase == "Succeeded":
        return None
    for c in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        waiting = (c.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return str(waiting["reason"])
    if phase != "Running":
        return str(status.get("reason") or phase or "Unknown")
    if not all(c.get("ready") for c in status.get("containerStatuses") or []):
        return "NotReady"
    return None


def observe(state: ClusterState) -> Observation:
    """The user-visible facts of a derived cluster."""
    obs = Observation(entries=_entries(state), alerts=list(state.extras.get("alerts") or []))
    for pod in state.find("Pod"):
        md = pod["metadata"]
        if md.get("namespace") in SYSTEM_NAMESPACES:
            continue
        problem = _pod_problem(pod)
        if problem:
            obs.unready[f"{md['namespace']}/{_owner(md['name'], 'Pod')}"] = problem
    for ev in state.find("Event"):
        if ev.get("type") == "Warning" and not any(n in str(ev.get("message")) for n in STARTUP_NOISE):
            inv = ev.get("involvedObject") or {}
            obs.warnings.add((str(inv.get("namespace")), _owner(str(inv.get("name")), str(inv.get("kind"))),
                              str(ev.get("reason"))))
    return obs


def derive_scenario(scenario: Scenario) -> ClusterState:
    """The simulated cluster for a scenario, derived by the real engine."""
    return derive(to_sim_spec(scenario))


def without_faults(scenario: Scenario) -> Scenario:
    """The same scenario (app, red herrings, clock) with no fault applied."""
    spec = scenario.spec.model_copy(update={"faults": [], "groundTruth": scenario.spec.groundTruth.__class__()})
    return scenario.model_copy(update={"spec": spec})


def _alert_names(alerts: list[dict[str, Any]]) -> list[str]:
    return sorted({str(a.get("alertname") or (a.get("labels") or {}).get("alertname")) for a in alerts})


def base_problems(base: Observation) -> list[str]:
    """Why a no-fault cluster is not healthy (empty: healthy)."""
    problems = [f"base not healthy: entry {e} fails {r:.1%} of requests" for e, r in base.failed_entries.items()]
    if base.alerts:
        problems.append(f"base not healthy: alerts firing: {', '.join(_alert_names(base.alerts))}")
    return problems


def difference(base: Observation, faulty: Observation) -> Observation:
    """What the fault added: worse entry points, newly unready workloads, new warnings, its alerts."""
    worse = {e: v for e, v in faulty.entries.items()
             if float(v.get("error_ratio", 0.0)) > base.failed_entries.get(e, 0.0) + FAILED_RATIO}
    return Observation(entries=worse,
                       unready={k: v for k, v in faulty.unready.items() if k not in base.unready},
                       warnings=faulty.warnings - base.warnings, alerts=list(faulty.alerts))


def symptom_problems(base: Observation, faulty: Observation) -> list[str]:
    """Why a fault is not a usable incident (empty: it shows, and an alert fires)."""
    delta = difference(base, faulty)
    problems = []
    if not (delta.entries or delta.unready or delta.warnings):
        problems.append("no user-visible symptom (no failing entry request, no unready pod, no warning event)")
    if not faulty.alerts:
        problems.append("no alert fires")
    return problems


def truth_problems(scenario: Scenario) -> list[str]:
    """Root-cause entities must be objects of the scenario (present, or changed/deleted by a fault)."""
    expanded, history = apply_app_and_faults(scenario)
    known = set(history)
    for obj in expanded.spec.manifests:
        md = obj["metadata"]
        known.add(f"{md['namespace']}/{obj['kind']}/{md['name']}" if md.get("namespace") else
                  f"{obj['kind']}/{md['name']}")
    return [f"root cause {rc.entity} is not an object of the scenario"
            for rc in expanded.spec.groundTruth.rootCauses if rc.entity not in known]


def check_ready(scenario: Scenario) -> list[str]:
    """Problems that make the scenario unusable as an incident; an empty list accepts it."""
    base = observe(derive_scenario(without_faults(scenario)))
    problems = base_problems(base)
    if problems or not scenario.spec.faults:
        return problems
    faulty = observe(derive_scenario(scenario))
    return symptom_problems(base, faulty) + truth_problems(scenario)

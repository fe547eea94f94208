"""Helpers for the signature tests: find a fault's scenario, derive it, and read its evidence."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from atlas_sre.scenarios.faults import get_fault
from atlas_sre.scenarios.loader import load_path
from atlas_sre.scenarios.model import Scenario
from atlas_sre.scenarios.readiness import Observation, difference, observe, without_faults
from atlas_sre.sim.state import ClusterState

LIBRARY = Path(__file__).resolve().parents[2] / "src" / "atlas_sre" / "scenarios" / "library"
LINE = re.compile(r'^\[[^\]]+\] "[^"]*" (\d+) (\S+) (\S+) ')


@lru_cache(maxsize=1)
def _singles() -> dict[str, Path]:
    """fault id -> the first library file whose only fault it is (read once per session)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out: dict[str, Path] = {}
    for path in sorted(LIBRARY.glob("*.yaml")):
        faults = (yaml.load(path.read_text(encoding="utf-8"), Loader=loader)["spec"].get("faults") or [])
        if len(faults) == 1:
            out.setdefault(faults[0]["id"], path)
    return out


def library_scenario(fault_id: str) -> Scenario | None:
    """The first library scenario whose only fault is `fault_id`."""
    path = _singles().get(fault_id)
    return load_path(path) if path else None


def derive_pair(scenario: Scenario) -> tuple[ClusterState, Observation]:
    """The derived faulty cluster and what the fault added over the same scenario without it."""
    from atlas_sre.scenarios.readiness import derive_scenario

    base = observe(derive_scenario(without_faults(scenario)))
    state = derive_scenario(scenario)
    return state, difference(base, observe(state))


def pod_reasons(state: ClusterState, owners: set[str]) -> set[str]:
    """State reasons, phase and readiness of the pods of `owners` (`ns/workload`)."""
    out: set[str] = set()
    for pod in state.find("Pod"):
        md, status = pod["metadata"], pod.get("status") or {}
        if f"{md['namespace']}/{md['name'].rsplit('-', 2)[0]}" not in owners:
            continue
        out.add(str(status.get("phase")))
        for prefix, key in (("Init:", "initContainerStatuses"), ("", "containerStatuses")):
            for c in status.get(key) or []:
                for st in (c.get("state") or {}, c.get("lastState") or {}):
                    for detail in st.values():
                        if detail.get("reason"):
                            out.add(prefix + detail["reason"])
                if not prefix and not c.get("ready"):
                    out.add("NotReady")
    return out


def proxy_flags(state: ClusterState, side: str) -> set[str]:
    """Codes, response flags and details in istio-proxy access logs on one side.

    `gateway`: the ingress gateway's pods; `server`: inbound lines of sidecars; `client`: outbound
    lines of sidecars and every gateway line.
    """
    out: set[str] = set()
    for key, lines in state.logs.items():
        if key.container != "istio-proxy" and not key.pod.startswith("istio-ingressgateway"):
            continue
        gateway = key.namespace == "istio-system"
        for line in lines:
            m = LINE.match(line.text)
            if not m:
                continue
            inbound = " inbound|" in line.text
            if (side == "gateway" and gateway) or (side == "server" and inbound and not gateway) or \
                    (side == "client" and (gateway or not inbound)):
                code, flags, details = m.groups()
                out |= {code, details, *flags.split(","), details.split("[", 1)[0]}
    return out


def built_scenario(fault_id: str) -> Scenario | None:
    """A gated single-fault scenario built from the first app and target that pass the readiness gate."""
    import random

    from atlas_sre.scenarios.build import base_parts
    from atlas_sre.scenarios.readiness import check_ready

    fault = get_fault(fault_id)
    for app in ("bookinfo", "online-shop", "hotel-reservation"):
        base = Scenario.model_validate({"metadata": {"name": "t"}, "spec": {"app": app, "incident": {"summary": "t"}}})
        parts = base_parts(base)
        for target in fault.candidates(parts)[:3]:
            args = fault.draw(parts, target, random.Random(0)) if fault.draw else {}
            s = Scenario.model_validate({"metadata": {"name": "t"}, "spec": {
                "app": app, "incident": {"summary": "t"},
                "faults": [{"id": fault_id, "target": str(target), "args": args}]}})
            try:
                if not check_ready(s):
                    return s
            except Exception:  # noqa: BLE001 - an engine error on this target: try the next one
                continue
    return None


def target_owners(scenario: Scenario) -> set[str]:
    """`ns/name` of the workloads the scenario's faults target."""
    out = set()
    for f in scenario.spec.faults:
        parts = (f.target or "").split("/")
        if len(parts) == 3 and parts[1] in ("Deployment", "StatefulSet"):
            out.add(f"{parts[0]}/{parts[2]}")
    return out


def signature_problems(fault_id: str, state: ClusterState, delta: Observation,
                       owners: set[str] | None = None) -> list[str]:
    """What of the fault's signature is missing from the derived cluster."""
    sig = get_fault(fault_id).signature
    problems = []
    names = {str(a.get("alertname")) for a in delta.alerts}
    if not names & set(sig.alerts):
        problems.append(f"none of the alerts {sig.alerts} fires (firing: {sorted(names)})")
    new_reasons = {reason for _, _, reason in delta.warnings}
    all_reasons = {str(e.get("reason")) for e in state.find("Event")}
    for ev in sig.events:
        if ev not in new_reasons and ev not in all_reasons:
            problems.append(f"no {ev} event")
    if sig.pod:
        seen = pod_reasons(state, set(delta.unready) | (owners or set()))
        if not seen & set(sig.pod):
            problems.append(f"no pod shows {sig.pod} (seen: {sorted(seen)})")
    if sig.flags:
        seen = proxy_flags(state, sig.proxy or "client")
        if not seen & set(sig.flags):
            problems.append(f"no {sig.proxy} istio-proxy log line with {sig.flags}")
    return problems

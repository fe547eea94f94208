"""The library's hard tier (issue 14 item 5): two faults, red herrings, noisy no-fault controls, two hops of logs.

Counts and labels from the files; symptoms from the simulator (served to real kubectl where a user
would look); grading of the controls (naming nothing is right, naming the noise is wrong); and the
generator reproduces the hard tier byte for byte without touching earlier files.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from atlas_sre.grading import grade
from atlas_sre.grading.diagnosis import Diagnosis
from atlas_sre.scenarios.catalog import builtin_paths
from atlas_sre.scenarios.faults.docs import LIBRARY, SEED
from atlas_sre.scenarios.loader import load_path
from atlas_sre.scenarios.readiness import derive_scenario
from atlas_sre.sim.clock import parse_time

HARD = sorted(LIBRARY.glob("*-hard-*.yaml"))
KIND = re.compile(r"-hard-(two-faults|herring|noisy-control|two-hop)")


def _kind(path: Path) -> str:
    m = KIND.search(path.stem)
    assert m, path.stem
    return m.group(1)


def _by_kind(kind: str) -> list[Path]:
    return [p for p in HARD if _kind(p) == kind]


def test_the_hard_tier_holds_at_least_40_incidents_of_every_kind() -> None:
    tiers = Counter(str(load_path(p).metadata.labels.get("complexity")) for p in builtin_paths())
    assert tiers["hard"] >= 40
    kinds = Counter(_kind(p) for p in HARD)
    assert set(kinds) == {"two-faults", "herring", "noisy-control", "two-hop"} and min(kinds.values()) >= 5


@pytest.mark.parametrize("path", HARD, ids=lambda p: p.stem)
def test_labels_and_truth_match_the_kind(path: Path) -> None:
    s = load_path(path)
    kind, labels, roots = _kind(path), s.metadata.labels, s.spec.groundTruth.rootCauses
    assert labels["complexity"] == "hard"
    expected = {"two-faults": ("multi-fault", 2), "noisy-control": ("no-fault", 0)}.get(kind, ("single-fault", 1))
    assert (labels["type"], len(roots), len(s.spec.faults)) == (expected[0], expected[1], expected[1])
    if kind in ("herring", "noisy-control"):  # an old restart on an app workload the truth does not blame
        noisy = [img for img, b in s.spec.registry.items() if b.episodes]
        assert noisy and all(img not in str(rc.entity) for rc in roots for img in noisy)


def _app_namespace(s) -> str:  # noqa: ANN001 - a Scenario
    from atlas_sre.scenarios.apps import load_app

    return load_app(str(s.spec.app)).namespace


@pytest.mark.parametrize("path", _by_kind("noisy-control"), ids=lambda p: p.stem)
def test_noisy_controls_show_old_history_on_a_healthy_cluster(path: Path) -> None:
    """Derived, not written: one restart hours ago on an app pod that has run ready since, and no alert."""
    s = load_path(path)
    state = derive_scenario(s)
    now = parse_time(s.spec.clock.observeAt)
    ns = _app_namespace(s)
    old = []
    for pod in state.find("Pod"):
        if pod["metadata"]["namespace"] != ns:
            continue
        for cs in pod["status"].get("containerStatuses") or []:
            term = (cs.get("lastState") or {}).get("terminated") or {}
            if cs.get("restartCount") and term:
                old.append((cs["ready"], now - parse_time(term["finishedAt"])))
    assert old and all(ready and age > timedelta(hours=1) for ready, age in old)
    assert state.extras.get("alerts") == []
    assert all(float(e.get("error_ratio", 0)) == 0 for e in state.extras.get("mesh_entrypoints") or [])


@pytest.mark.parametrize("path", _by_kind("noisy-control")[:3], ids=lambda p: p.stem)
def test_a_noisy_control_is_graded_right_only_when_nothing_is_named(path: Path) -> None:
    s = load_path(path)
    from atlas_sre.scenarios.build import apply_app_and_faults

    noisy = next(img for img, b in s.spec.registry.items() if b.episodes)
    expanded, _ = apply_app_and_faults(s)
    workload = next(m["metadata"]["name"] for m in expanded.spec.manifests if m["kind"] == "Deployment"
                    and m["spec"]["template"]["spec"]["containers"][0]["image"] == noisy)
    blamed = Diagnosis.model_validate({"entities": [f"{_app_namespace(s)}/Deployment/{workload}"],
                                       "category": "Resource"})
    assert grade(Diagnosis(category="none"), s.spec.groundTruth).correct is True
    assert grade(blamed, s.spec.groundTruth).correct is False


@pytest.mark.parametrize("path", _by_kind("two-hop")[:3], ids=lambda p: p.stem)
def test_two_hop_proof_runs_through_the_callers_logs_to_the_dependencys_own(path: Path) -> None:
    """Through real kubectl: the caller's log names the failing dependency; that one's log names the cause."""
    from atlas_sre.commands import CommandConfig, CommandRunner
    from atlas_sre.scenarios.build import base_parts
    from atlas_sre.scenarios.faults.base import Ref
    from atlas_sre.scenarios.faults.topology import service_workloads
    from atlas_sre.scenarios.generator.hard import entry_workloads
    from atlas_sre.sim.api.serve import SimServer

    s = load_path(path)
    truth = s.spec.groundTruth
    root = truth.rootCauses[0].entity
    group = next((g for g in truth.aliases if root in g), [root])
    workload = next(e for e in [root, *group] if "/Deployment/" in e)  # a policy's root: the workload it selects
    ns, _, name = workload.split("/")
    parts = base_parts(s)
    assert workload not in entry_workloads(parts)
    # the hop after the root's own Service: root Service -> the caller's Service (propagation is ordered)
    hop = next(h for h in truth.propagation if "/Service/" in h.source and "/Service/" in h.target)
    service, caller_service = hop.source.rsplit("/", 1)[-1], Ref.parse(hop.target)
    caller = service_workloads(parts, caller_service)[0]["metadata"]["name"]
    with SimServer(derive_scenario(s)) as sim:
        config = CommandConfig(kubeconfig=sim.kubeconfig_path, max_output_bytes=1 << 30, max_output_lines=1 << 24)
        with CommandRunner(config) as runner:
            upstream = runner.run(f"kubectl logs -n {ns} deploy/{caller} --all-containers --tail=200").observation
            own = runner.run(f"kubectl logs -n {ns} deploy/{name} --all-containers --tail=200").observation
    assert re.search(rf"\b{re.escape(service)}\b", upstream), "the caller's logs point at the dependency"
    cause = r"no such host|i/o timeout|connection_timeout|connection refused|deadline exceeded|lookup"
    assert re.search(cause, own), own[-600:]


def test_the_generator_reproduces_one_kind_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each kind draws from its own rng after the earlier scenarios: the noisy controls come back identical."""
    from atlas_sre.scenarios.generator import hard
    from atlas_sre.scenarios.generator.generate import HEADER, Options, Report, _hard_tier
    from atlas_sre.scenarios.loader import dump_scenario

    before = len([p for p in LIBRARY.glob("*.yaml") if "-hard-" not in p.stem])
    order = list(hard.PER_KIND)
    done = before + sum(hard.PER_KIND[k] for k in order[: order.index("noisy-control")])
    monkeypatch.setattr(hard, "PER_KIND", {"noisy-control": hard.PER_KIND["noisy-control"]})
    out = _hard_tier(done, Options(seed=SEED), Report())
    assert {f"{s.metadata.name}.yaml": HEADER + dump_scenario(s) for s in out} == {
        p.name: p.read_text(encoding="utf-8") for p in _by_kind("noisy-control")}

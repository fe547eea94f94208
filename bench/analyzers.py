"""Precision and recall of every analyzer over the scenario library.

Run: `.venv/bin/python bench/analyzers.py [--via objects|api] [--api-sample K] [--sweep|--no-sweep] [-v]`.
Prints one `name=value` line per figure.

Scenarios: the built-ins, `scenarios/library/` when present, the built-in apps with no fault
(no-fault controls), and, when the library is empty (or `--sweep`), a catalogue sweep: every fault
of the catalogue injected into every built-in app at its first candidate target, arguments drawn
with a fixed seed. Each scenario is derived, then read either from the derived objects round-tripped
through JSON (`--via objects`, the default: same analyzers, same log requests, no HTTP; ~15 s for
the library on 2 cores) or through the real API (`--via api`: served with SimServer and fetched by
real kubectl through the command layer, exactly what `analyze` does; ~3 min). With the default, a
sample of `--api-sample` scenarios is also run through the real API and the two finding sets are
compared (`api_check.identical_findings`), so the fast path is checked against the real one.

Grading (per finding, Warning and Error only; Info is advisory like istioctl's IST0102/IST0118): a
finding is a true positive when its resource, or an entity it names in `related`, falls in the
component (alias group, globs included, `atlas_sre.grading.Components`) of a ground-truth root cause.
Precision per analyzer = true-positive findings / findings, over all scenarios (controls included).
Recall per analyzer = scenarios of the fault ids the analyzer is meant for (EXPECTED) in which it
produced a true positive / scenarios of those ids. `overall.recall` = fault scenarios with at least
one true positive; `overall.root_cause_recall` = root causes (multi-fault scenarios have several)
named by some true-positive finding; `controls.false_alarms` = Warning/Error findings on no-fault
controls. Findings in infra namespaces (`atlas_sre.grading.DEFAULT_INFRA_NAMESPACES`, unless a root
cause lives there) are set aside as grading does for diagnoses: the library plants real red
herrings there (an OOMKilled exporter), which are true alarms but not the incident.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from typing import Any

# fmt: off
EXPECTED: dict[str, set[str]] = {
    "vs-destinations": {"missing-destination-rule-subset-istio-virtual-service",
                        "wrong-destination-host-istio-virtual-service",
                        "wrong-destination-port-istio-virtual-service"},
    "vs-gateways": {"mismatched-host-istio-gateway", "unbound-gateway-istio-virtual-service"},
    "dr-subsets": {"empty-subset-istio-destination-rule"},
    "mtls-clients": {"strict-mutual-tls-istio-service-mesh-enforcement",
                     "disabled-sidecar-injection-kubernetes-namespace"},
    "dr-tls": {"disabled-tls-istio-destination-rule"},
    "authz": {"traffic-denying-istio-authorization-policy",
              "traffic-denying-istio-gateway-authorization-policy",
              "missing-principal-istio-authorization-policy"},
    "fault-injection": {"fault-injection-abort-istio-virtual-service"},
    "route-timeout": {"short-timeout-istio-virtual-service"},
    "traffic-policy": {"undersized-connection-pool-istio-destination-rule",
                       "aggressive-outlier-detection-istio-destination-rule"},
    "sidecar-egress": {"dependency-hiding-istio-sidecar"},
    "port-protocol": {"misnamed-protocol-port-kubernetes-service"},
    "crash-loop": {"invalid-kubernetes-workload-container-command", "crashing-kubernetes-workload-release",
                   "memory-leak-kubernetes-workload-release",
                   "removed-kubernetes-workload-container-environment-variable",
                   "corrupted-kubernetes-secret-credentials",
                   "insufficient-kubernetes-workload-container-resources"},
    "image-pull": {"nonexistent-kubernetes-workload-container-image"},
    "container-config": {"nonexistent-kubernetes-workload-configmap-reference"},
    "init-containers": {"crashing-kubernetes-workload-init-container",
                        "hanging-kubernetes-workload-init-container"},
    "probes": {"misconfigured-kubernetes-workload-container-readiness-probe",
               "misconfigured-kubernetes-workload-container-liveness-probe"},
    "pending": {"nonexistent-kubernetes-workload-node", "cordoned-kubernetes-worker-node",
                "unschedulable-kubernetes-workload-pod-anti-affinity-rule",
                "nonexistent-kubernetes-workload-persistent-volume-claim"},
    "capacity": {"priority-kubernetes-workload-priority-preemption"},
    "volumes": {"nonexistent-kubernetes-workload-persistent-volume-claim"},
    "nodes": {"cordoned-kubernetes-worker-node"},
    "service-endpoints": {"invalid-kubernetes-service-selector", "scaled-to-zero-kubernetes-workload"},
    "target-port": {"modified-target-port-kubernetes-service"},
    "dependencies": {"modified-kubernetes-workload-container-environment-variable",
                     "deleted-kubernetes-service"},
    "network-policy": {"ingress-port-blocking-network-policy", "egress-blocking-network-policy"},
    "dns-policy": {"failing-name-resolution-kubernetes-workload-dns-policy"},
    "autoscaling": {"misconfigured-kubernetes-horizontal-pod-autoscaler"},
    "quota": {"insufficient-kubernetes-resource-quota"},
}
# fmt: on
APPS = ("bookinfo", "hotel-reservation", "online-shop")
Job = tuple[str, ...]  # ("path", file) | ("app", app) | ("fault", app, fault id)


def jobs(sweep: bool | None) -> tuple[list[Job], dict[str, int]]:
    from atlas_sre.scenarios.catalog import BUILTIN_DIRS
    from atlas_sre.scenarios.faults import CATALOGUE

    files = {d.name: sorted(d.glob("*.yaml")) if d.is_dir() else [] for d in BUILTIN_DIRS}
    out: list[Job] = [("path", str(p)) for ps in files.values() for p in ps]
    out += [("app", a) for a in APPS]
    counts = {f"source.{k}": len(v) for k, v in files.items()} | {"source.app_controls": len(APPS)}
    if sweep or (sweep is None and not files.get("library")):
        swept = [("fault", a, f) for a in APPS for f in sorted(CATALOGUE)]
        out += swept
        counts["source.catalogue_sweep"] = len(swept)
    return out, counts


def build(job: Job) -> Any:
    """The Scenario for a job (None when the fault has no target in that app)."""
    from atlas_sre.scenarios.build import base_parts
    from atlas_sre.scenarios.catalog import load
    from atlas_sre.scenarios.faults import CATALOGUE, FaultError
    from atlas_sre.scenarios.model import Scenario

    if job[0] == "path":
        return load(job[1])
    spec: dict[str, Any] = {"incident": {"summary": "bench"}, "app": job[1]}
    if job[0] == "fault":
        fault = CATALOGUE[job[2]]
        parts = base_parts(Scenario.model_validate({"metadata": {"name": "x"}, "spec": spec}))
        try:
            targets = fault.candidates(parts)
            if not targets:
                return None
            args = fault.draw(parts, targets[0], random.Random(7)) if fault.draw else {}
        except (FaultError, IndexError, KeyError):
            return None
        spec["faults"] = [{"id": fault.id, "target": str(targets[0]), "args": args}]
    return Scenario.model_validate({"metadata": {"name": "-".join(job[1:])}, "spec": spec})


def truth_and_faults(scenario: Any) -> tuple[dict[str, Any], list[str]]:
    from atlas_sre.scenarios.build import apply_app_and_faults
    from atlas_sre.scenarios.catalog import summary

    faults = summary(scenario)["faults"]
    if scenario.spec.app or scenario.spec.faults:
        scenario = apply_app_and_faults(scenario)[0]
    return scenario.spec.groundTruth.model_dump(), faults


def snapshot_objects(state: Any) -> Any:
    from atlas_sre.analyzers import Snapshot, log_requests
    from atlas_sre.analyzers.fetch import FETCHED_KINDS

    served = [o for o in state.objects if o.get("kind") in FETCHED_KINDS | {"Secret"}]  # what fetch reads
    snap = Snapshot.from_objects(json.loads(json.dumps(served, default=str)))
    wanted = set(log_requests(snap)[:12])
    snap.logs = {
        r: [ln.text for ln in lines][-r.tail :]
        for k, lines in state.logs.items()
        for r in wanted
        if (k.namespace, k.pod, k.container, k.previous) == (r.namespace, r.pod, r.container, False)
    }
    return snap


def analyze_via_api(state: Any) -> list[dict[str, Any]]:
    """Serve the state and run `analyze -A --json` through the command layer, as an agent would."""
    from atlas_sre.analyzers import TOOL_NAME, analyze_tool
    from atlas_sre.commands import CommandConfig, CommandRunner
    from atlas_sre.sim.api.serve import SimServer

    with SimServer(state) as sim:
        config = CommandConfig(
            kubeconfig=sim.kubeconfig_path, max_output_bytes=1 << 30, max_output_lines=1 << 24
        )
        with CommandRunner(config, tools={TOOL_NAME: analyze_tool}) as runner:
            result = runner.run(f"{TOOL_NAME} -A --json")
    return json.loads(result.observation)["findings"]


def evaluate(job: Job, via: str) -> dict[str, Any]:
    """Derive, analyze and return plain data (picklable) for one scenario."""
    from atlas_sre.analyzers import run_analyzers
    from atlas_sre.scenarios.compile import to_sim_spec
    from atlas_sre.sim.engine import derive

    try:
        scenario = build(job)
        if scenario is None:
            return {"job": job, "skipped": True}
        truth, faults = truth_and_faults(scenario)
        state = derive(to_sim_spec(scenario))
        if via == "api":
            findings = analyze_via_api(state)
        else:
            findings = [f.to_dict() for f in run_analyzers(snapshot_objects(state))]
    except Exception as exc:  # a simulator or scenario bug is counted, not fatal
        return {"job": job, "error": f"{type(exc).__name__}: {exc}"}
    return {"job": job, "truth": truth, "faults": faults, "findings": findings}


def grade(results: list[dict[str, Any]], verbose: bool) -> dict[str, Any]:
    from atlas_sre.grading import DEFAULT_INFRA_NAMESPACES, Components, GroundTruth, namespace_of

    per = defaultdict(lambda: {"findings": 0, "tp": 0, "expected": 0, "hit": 0})
    counters = "scenarios fault_scenarios detected roots roots_found controls false_alarms findings tp info"
    counters += " infra"
    out: dict[str, Any] = dict.fromkeys([*counters.split(), "errors", "skipped"], 0)
    out["missed_roots"] = []
    missed = []
    for r in results:
        if r.get("skipped") or r.get("error"):
            out["skipped" if r.get("skipped") else "errors"] += 1
            if r.get("error") and verbose:
                print(f"# error {'/'.join(r['job'][1:])}: {r['error']}", file=sys.stderr)
            continue
        out["scenarios"] += 1
        truth = GroundTruth.coerce(r["truth"])
        comps = Components(truth.aliases)
        roots = {comps.of(rc.entity) for rc in truth.rootCauses}
        hits_by, found_roots = set(), set()
        exempt = {namespace_of(rc.entity) for rc in truth.rootCauses}
        for f in r["findings"]:
            if f["level"] == "Info":
                out["info"] += 1
                continue
            if namespace_of(f["resource"]) in set(DEFAULT_INFRA_NAMESPACES) - exempt:
                out["infra"] += 1
                continue
            named = {comps.of(e) for e in [f["resource"], *f.get("related", [])]} & roots
            tp = bool(named)
            found_roots |= named
            per[f["analyzer"]]["findings"] += 1
            per[f["analyzer"]]["tp"] += tp
            out["findings"] += 1
            out["tp"] += tp
            if tp:
                hits_by.add(f["analyzer"])
            elif verbose:
                print(
                    f"# fp {'/'.join(r['job'][1:]).rsplit('/', 1)[-1]}: {f['level']} [{f['code']}] "
                    f"({f['origin']}) {f['message'][:160]}",
                    file=sys.stderr,
                )
            if truth.is_no_fault:
                out["false_alarms"] += 1
        for name, ids in EXPECTED.items():
            if ids & set(r["faults"]):
                per[name]["expected"] += 1
                per[name]["hit"] += name in hits_by
        if truth.is_no_fault:
            out["controls"] += 1
        else:
            out["fault_scenarios"] += 1
            out["detected"] += bool(hits_by)
            out["roots"] += len(roots)
            out["roots_found"] += len(found_roots)
            out["missed_roots"] += sorted(
                rc.entity for rc in truth.rootCauses if comps.of(rc.entity) not in found_roots
            )
            if not hits_by:
                missed.append("/".join(r["job"][1:]).rsplit("/", 1)[-1] + ":" + ",".join(r["faults"]))
    out["per"], out["missed"] = per, missed
    return out


def _keys(result: dict[str, Any]) -> set[tuple[str, str, str]] | None:
    """The findings of one result as comparable keys (None for skipped/errored runs)."""
    if "findings" not in result:
        return None
    return {(f["code"], f["resource"], f["message"]) for f in result["findings"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--via", choices=("api", "objects"), default="objects")
    ap.add_argument("--api-sample", type=int, default=12, help="scenarios also checked through the real API")
    ap.add_argument("--sweep", dest="sweep", action="store_true", default=None)
    ap.add_argument("--no-sweep", dest="sweep", action="store_false")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    todo, counts = jobs(args.sweep)
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
        results = list(pool.map(evaluate, todo, [args.via] * len(todo)))
    g = grade(results, args.verbose)
    sample = []
    if args.via == "objects" and args.api_sample > 0:
        step = max(1, len(todo) // args.api_sample)
        sample = todo[::step][: args.api_sample]
        with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
            checked = list(pool.map(evaluate, sample, ["api"] * len(sample)))
        by_job = {tuple(r["job"]): r for r in results}
        same = sum(_keys(c) == _keys(by_job[tuple(c["job"])]) for c in checked)
    for k, v in counts.items():
        print(f"{k}={v}")
    print(f"via={args.via}")
    for k in ("scenarios", "fault_scenarios", "controls", "skipped", "errors"):
        print(f"{k}={g[k]}")
    print(f"seconds={time.monotonic() - started:.1f}")
    if sample:
        print(f"api_check.scenarios={len(sample)}")
        print(f"api_check.identical_findings={same}")
    from atlas_sre.analyzers import analyzer_names

    def ratio(a: int, b: int) -> str:
        return f"{a / b:.3f}" if b else "n/a"

    for name in analyzer_names():
        p = g["per"][name]
        print(f"analyzer.{name}.findings={p['findings']}")
        print(f"analyzer.{name}.precision={ratio(p['tp'], p['findings'])}")
        print(f"analyzer.{name}.recall={ratio(p['hit'], p['expected'])}")
        print(f"analyzer.{name}.expected_scenarios={p['expected']}")
    print(f"overall.precision={g['tp'] / max(1, g['findings']):.3f}")
    print(f"overall.recall={g['detected'] / max(1, g['fault_scenarios']):.3f}")
    print(f"overall.root_cause_recall={g['roots_found'] / max(1, g['roots']):.3f}")
    print(f"overall.findings={g['findings']}")
    print(f"overall.info_findings={g['info']}")
    print(f"overall.infra_namespace_findings={g['infra']}")
    print(f"controls.false_alarms={g['false_alarms']}")
    print(f"missed={' '.join(g['missed']) or '-'}")
    print(f"missed_root_causes={' '.join(g['missed_roots']) or '-'}")


if __name__ == "__main__":
    main()

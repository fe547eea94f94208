"""Scenario generation and traffic benchmark at 1,000 pods (issue 3).

Prints `name=value` lines: time to generate (and gate) a 1,000-pod scenario, time to derive it
(per stage), start-up of the served API, and the traffic engine's rate: request classes and
simulated requests evaluated per second of compute. The traffic engine evaluates *rates*, so
"simulated requests" = entry-point requests per second × the metrics window it covers, divided by
the stage's wall time. Run: `.venv/bin/python bench/scenarios.py [--pods 1000] [--app online-shop]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from atlas_sre.scenarios.compile import to_sim_spec
from atlas_sre.scenarios.generator.generate import generate_cli
from atlas_sre.scenarios.loader import load_path
from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.engine import default_stages
from atlas_sre.sim.mesh.stages import WINDOW
from atlas_sre.sim.state import ClusterState


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--app", default="online-shop")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        out = Path(d)
        t0 = time.perf_counter()
        rc = generate_cli(1, args.seed, args.app, None, args.pods, str(out))
        print(f"generate_{args.pods}_pods_s={time.perf_counter() - t0:.2f}")
        if rc != 0:
            return rc
        path = next(out.glob("*.yaml"))
        scenario = load_path(path)
        spec = to_sim_spec(scenario, parse_time("2026-11-26T10:00:00Z"))
        state = ClusterState(clock=spec.clock)
        total = 0.0
        traffic_s = float("nan")
        for stage in default_stages():
            t = time.perf_counter()
            stage(spec, state)
            dt = time.perf_counter() - t
            total += dt
            print(f"stage_{stage.__name__}_s={dt:.3f}")
            if stage.__name__ == "mesh_traffic":
                traffic_s = dt
        pods = sum(1 for o in state.objects if o["kind"] == "Pod")
        print(f"pods={pods}")
        print(f"derive_s={total:.2f}")
        ledgers = state.extras.get("mesh_traffic") or {}
        classes = len(ledgers["after"].rates) if ledgers else 0
        entry_rps = sum(e.get("rps", 0) for e in (spec.traffic or {}).get("entrypoints") or [])
        print(f"request_classes={classes}")
        print(f"request_classes_per_s={classes / traffic_s:.0f}")
        print(f"simulated_requests_per_s={entry_rps * WINDOW.total_seconds() / traffic_s:.0f}")
        t = time.perf_counter()
        with SimServer(state) as server:
            print(f"serve_start_s={time.perf_counter() - t:.3f}")
            print(f"kubeconfig={server.kubeconfig_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

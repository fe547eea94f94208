"""Render docs/faults.md from the catalogue and the library, so the page can never drift.

    .venv/bin/python -m atlas_sre.scenarios.faults.docs > docs/faults.md

A test compares the committed page with `render()`; regenerate it after changing a fault or the
library.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from atlas_sre.scenarios.faults import CATALOGUE, Fault

LIBRARY = Path(__file__).resolve().parents[1] / "library"
SEED = 20261126
COUNT = 120

INTRO = f"""# Fault catalogue

A fault is a *change to objects or behaviour* (never a symptom) plus the ground truth that change
implies: the root-cause entity, its alias group (a component = its workload, Services, and
`Pod/<name>-*` / `ReplicaSet/<name>-*` globs), a category, a condition and the propagation edges
along the app's call graph up to the entry point. Every edit is recorded as
`Change(at=clock.faultAt, previous=...)` so the simulator starts the symptoms at the fault time.
Ids follow ITBench where one exists. Use a fault in a scenario with
`faults: [{{id, target: ns/Kind/name, args: {{...}}}}]` next to `app: <built-in app>`.

Built-in apps (`src/atlas_sre/scenarios/apps/<name>.yaml`, keys `name`, `description`, `namespace`,
`traffic`, `registry`, `manifests`: the scenario `spec` parts): `bookinfo` (productpage, details,
reviews v1/v2/v3 behind subsets, ratings), `online-shop` (OpenTelemetry-demo-like: 16 workloads
with a Valkey cache, Kafka and its consumers, PostgreSQL, an ALLOW policy on payment) and
`hotel-reservation` (DeathStarBench-like, memcached + MongoDB with PVCs, namespace-wide STRICT
mTLS). All run in Istio sidecar mode on three worker nodes and are healthy by default (no failed
request, no alert). A scenario with `app: <name>` gets the app's parts plus its own `manifests` and
`registry` (same identity replaces the app's object).

Generated scenarios also carry **red herrings**, written as objects and behaviour: a statsd
exporter with a slow leak (a few old OOM restarts), a cleanup Job that failed hours ago, a config
reloader logging an RBAC `Forbidden` line, an HPA without CPU requests (a recurring
`FailedGetResourceMetric` warning); **no-fault controls** (a noisy but healthy cluster, empty
`rootCauses`) and **two-fault incidents**. Summaries are written from what the simulator shows
users (entry-point answers, unready pods), never from the cause; `alerts: []` (computed).
`--scale N` replicates the app's workloads to about N pods and adds nodes to hold them.

## Regenerating the library and this page

```
.venv/bin/atlas-sre scenarios generate --count {COUNT} --seed {SEED} --out src/atlas_sre/scenarios/library
.venv/bin/python -m atlas_sre.scenarios.faults.docs > docs/faults.md
```
(`python -m atlas_sre.scenarios.generator.generate --count {COUNT} --seed {SEED} --out ...` does the same
without the CLI.) Every scenario passes the readiness gate: the simulator must show a
user-visible symptom and fire an alert for the fault, and the same scenario without it must be
healthy. The signature column is what the fault's tests check in the derived cluster. Faults added
after the first edition (`generator/editions.py`) get two scenarios each, appended after the
first {COUNT}, so adding a fault never rewrites a scenario already in the library.
"""


def _args(fault: Fault) -> str:
    out = []
    for name, info in fault.args.model_fields.items():
        ann = getattr(info.annotation, "__name__", None) or str(info.annotation).replace("typing.", "")
        ann = ann.replace(" | ", " or ")
        default = "-" if info.default is None else repr(info.default)
        out.append(f"`{name}`: {ann} = {default}")
    return "; ".join(out) or "(none)"


def catalogue_table() -> str:
    rows = ["| id | layer | category | target | description | args | signature |", "|---|---|---|---|---|---|---|"]
    for fid in sorted(CATALOGUE):
        f = CATALOGUE[fid]
        rows.append(f"| `{fid}` | {f.domain} | {f.category} | {f.target_kind} | {f.description} | {_args(f)} | "
                    f"{f.signature.text()} |")
    return "\n".join(rows)


def coverage(library: Path = LIBRARY) -> tuple[Counter[str], Counter[str], int]:
    """(fault id -> scenarios using it, app -> scenarios, scenarios) over the library files."""
    faults: Counter[str] = Counter()
    apps: Counter[str] = Counter()
    total = 0
    for path in sorted(library.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = data.get("spec") or {}
        total += 1
        apps[spec.get("app") or (data.get("metadata", {}).get("labels") or {}).get("app", "-")] += 1
        ids = [f["id"] for f in spec.get("faults") or []]
        for fid in ids:
            faults[fid] += 1
        if not ids:
            faults["(no-fault control)"] += 1
        elif len(ids) > 1:
            faults["(two-fault incidents)"] += 1
    return faults, apps, total


def coverage_table(library: Path = LIBRARY) -> str:
    faults, apps, total = coverage(library)
    rows = [f"{total} scenarios in `src/atlas_sre/scenarios/library/`.", "",
            "| fault id | scenarios |", "|---|---|"]
    for fid in sorted(CATALOGUE):
        rows.append(f"| `{fid}` | {faults.get(fid, 0)} |")
    for extra in ("(two-fault incidents)", "(no-fault control)"):
        rows.append(f"| {extra} | {faults.get(extra, 0)} |")
    rows += ["", "| app | scenarios |", "|---|---|"] + [f"| `{a}` | {n} |" for a, n in sorted(apps.items())]
    return "\n".join(rows)


def render(library: Path = LIBRARY) -> str:
    mesh = sum(1 for f in CATALOGUE.values() if f.domain == "service-mesh")
    return (f"{INTRO}\n## Faults ({len(CATALOGUE)}, {mesh} service-mesh)\n\n{catalogue_table()}\n\n"
            f"## Coverage in the library\n\n{coverage_table(library)}\n")


if __name__ == "__main__":
    print(render(), end="")

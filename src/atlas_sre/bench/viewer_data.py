"""What the run viewer reads from a run folder: records, summary, traces, plots and capsules.

Why a module apart from the pages: every file access the viewer makes goes through `RunView`, so
one place decides what may be read. Paths never come from a URL: an episode is found by its key
in `results.jsonl`, a plot by its name in `plots/`, a capsule by its id in the run's stores, and a
trace only if it resolves inside the run folder — a crafted URL cannot reach any other file.
The truth an episode is shown against is the grader's own output in the trace (`matched`,
`missed`, `extra`); the viewer never opens a scenario's `groundTruth`.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_sre.bench.config import BenchConfig, EpisodeResult, safe_name
from atlas_sre.bench.report import build_summary
from atlas_sre.bench.results import load_run
from atlas_sre.capsules import CapsuleStore
from atlas_sre.capsules.model import Capsule

PLOT_NAME = re.compile(r"[A-Za-z0-9_.-]+\.png")
CAPSULE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
FILTERS = ("mode", "fault", "correct", "complexity")


@dataclass
class Trace:
    """One episode's trace file, split by record type (empty when the run wrote none)."""

    result: dict[str, Any] = field(default_factory=dict)
    teaching: dict[str, Any] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Trace:
        out = cls(result=data.get("result") or {})
        for rec in data.get("records") or []:
            kind, label = rec.get("type"), str(rec.get("label") or "")
            if kind == "teaching":
                out.teaching = rec
            elif kind == "run":
                out.runs[label] = rec
            elif kind == "step":
                out.steps.setdefault(label, []).append(rec)
            elif kind == "outcome":
                out.outcomes[label] = rec
        return out

    @property
    def labels(self) -> list[str]:
        """Runs in protocol order: the untaught baseline first, then the guided run."""
        seen = list(dict.fromkeys([*self.runs, *self.steps, *self.outcomes]))
        return sorted(seen, key=lambda s: (s != "baseline", s != "guided", s))


class RunView:
    """A bench run folder opened read-only for the viewer."""

    def __init__(self, run_dir: Path) -> None:
        self.root = Path(run_dir).resolve()
        self.config, records = load_run(self.root)  # ValueError for a folder that is not a run
        self.records: dict[str, EpisodeResult] = {r.key: r for r in records}
        self._summary: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def summary(self) -> dict[str, Any]:
        """`summary.json` as the run wrote it, or rebuilt from the records (a partial run has none)."""
        if self._summary is None:
            path = self.root / "summary.json"
            try:
                self._summary = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._summary = build_summary(list(self.records.values()), self.config, self.root)
        return self._summary

    def inside(self, path: Path) -> Path | None:
        """`path` resolved, if it lies inside the run folder (no `..`, no symlink out)."""
        resolved = (self.root / path).resolve()
        return resolved if resolved.is_relative_to(self.root) else None

    def plots(self) -> list[str]:
        folder = self.root / "plots"
        return sorted(p.name for p in folder.glob("*.png")) if folder.is_dir() else []

    def plot(self, name: str) -> bytes | None:
        """A PNG from `plots/` by bare file name; anything else (a path, `..`) is not found."""
        if not PLOT_NAME.fullmatch(name) or name not in self.plots():
            return None
        path = self.inside(Path("plots") / name)
        return path.read_bytes() if path is not None and path.is_file() else None

    def filtered(self, query: dict[str, str]) -> list[EpisodeResult]:
        """Episodes matching every given filter (`correct` is `yes` or `no`); key order."""
        out = []
        for r in self.records.values():
            if query.get("mode") and r.mode != query["mode"]:
                continue
            if query.get("fault") and query["fault"] not in r.faults:
                continue
            if query.get("complexity") and r.complexity != query["complexity"]:
                continue
            if query.get("correct") in ("yes", "no") and r.correct != (query["correct"] == "yes"):
                continue
            out.append(r)
        return out

    def choices(self) -> dict[str, list[str]]:
        """The values each filter can take in this run, for the filter form."""
        recs = self.records.values()
        return {"mode": [m for m in self.config.modes if any(r.mode == m for r in recs)],
                "fault": sorted({f for r in recs for f in r.faults}),
                "correct": ["yes", "no"],
                "complexity": sorted({r.complexity for r in recs})}

    def trace(self, record: EpisodeResult) -> Trace:
        """The episode's trace: its recorded path if inside the run, else `traces/<safe key>.json`."""
        candidates = [Path(record.trace)] if record.trace and not Path(record.trace).is_absolute() else []
        candidates.append(Path("traces") / f"{safe_name(record.key)}.json")
        for rel in candidates:
            path = self.inside(rel)
            if path is not None and path.is_file():
                try:
                    return Trace.parse(json.loads(path.read_text(encoding="utf-8")))
                except (OSError, ValueError):
                    continue
        return Trace()

    def stores(self) -> list[Path]:
        """The run's capsule stores: live ones first, then the per-stage snapshots."""
        folder = self.root / "capsules"
        if not folder.is_dir():
            return []
        return sorted(folder.glob("*.sqlite")) + sorted((folder / "snapshots").glob("*.sqlite"))

    def capsule(self, capsule_id: str) -> tuple[Capsule, list[str]] | None:
        """The capsule (as its first store holds it) and the names of every store that has it."""
        if not CAPSULE_ID.fullmatch(capsule_id):
            return None
        found: Capsule | None = None
        where: list[str] = []
        for path in self.stores():
            try:
                with CapsuleStore(path, read_only=True) as store:
                    capsule = store.get(capsule_id)
            except (sqlite3.Error, RuntimeError, ValueError):
                continue
            if capsule is not None:
                found = found or capsule
                where.append(str(path.relative_to(self.root / "capsules")))
        return (found, where) if found is not None else None

    def differing(self, other: RunView) -> list[tuple[EpisodeResult, EpisodeResult]]:
        """Episodes (same key in both runs) whose correctness differs, this run's record first."""
        return [(r, other.records[k]) for k, r in self.records.items()
                if k in other.records and r.correct != other.records[k].correct]


def config_line(cfg: BenchConfig, summary: dict[str, Any]) -> str:
    """The one-line description of a run the report also opens with."""
    eps = summary.get("episodes") or {}
    return (f"scenarios {', '.join(cfg.scenarios)} · modes {', '.join(cfg.modes)} · {cfg.iterations} iteration(s) × "
            f"{cfg.repeats} repeat(s) · split {cfg.split or 'none'} · student {cfg.student} · teacher {cfg.teacher}"
            f" · seed {cfg.seed} · {eps.get('eval', 0)} episodes ({eps.get('train', 0)} training, "
            f"{eps.get('errors', 0)} errors)" + (" · no analyzer" if cfg.no_analyzer else ""))

"""Saved investigations awaiting a verdict: `runs/<id>.json` in the capsule store's folder.

Why: on a real cluster there is no ground truth when `atlas-sre investigate --learn` ends — the
user learns hours later whether the diagnosis was right. Consolidating at once would either learn
from a wrong answer or throw the run away. So the run's teaching record (the protocol result plus
its trace records, what `EpisodeRecord.of` reads) is saved beside the store, the uses of the
capsules it applied are counted as *pending* (outcome unknown), and `settle_run` — behind
`atlas-sre capsules feedback RUN --correct|--wrong` — resolves those uses and, when the answer was
right, learns from the run exactly as a graded scenario would. A run is settled once; the verdict
and what it taught are written back into its file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from atlas_sre.capsules.consolidate import Learnt, consolidate_report
from atlas_sre.capsules.model import utcnow
from atlas_sre.capsules.outcomes import ConsolidationConfig, feedback
from atlas_sre.capsules.pg import is_url
from atlas_sre.capsules.store import CapsuleStore

RUN_FORMAT = "atlas-sre-run-1"
RUNS_DIR = "runs"


class RunError(ValueError):
    """A saved run that cannot be found, read or settled (the message names it and why)."""


def runs_dir(store_path: str | Path) -> Path:
    """Where a store's saved runs live: `runs/` next to the SQLite file; for a PostgreSQL store
    (no folder of its own) the user's data folder, `$XDG_DATA_HOME/atlas-sre/runs`."""
    if is_url(str(store_path)):
        data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
        return Path(data_home) / "atlas-sre" / RUNS_DIR
    return Path(store_path).expanduser().parent / RUNS_DIR


def run_id(record: Mapping[str, Any], now: datetime | None = None) -> str:
    """`20261207T043600Z-1a2b3c`: sortable by time, unique by content."""
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:6]
    return f"{stamp}-{digest}"


def save_run(store_path: str | Path, record: Mapping[str, Any], pending_uses: Sequence[str] = (),
             now: datetime | None = None) -> tuple[str, Path]:
    """Write the run record (atomically) and return its id and path.

    `pending_uses`: capsule ids whose use was already counted with an unknown outcome; settling
    resolves those instead of counting the use a second time.
    """
    rid = run_id(record, now)
    path = runs_dir(store_path) / f"{rid}.json"
    data = {"format": RUN_FORMAT, "id": rid, "created_at": (now or utcnow()).isoformat(),
            "store": store_path if is_url(str(store_path)) else str(Path(store_path).expanduser()),
            "pending_uses": list(pending_uses),
            "feedback": None, **dict(record)}
    _write(path, data)
    return rid, path


def _write(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def find_run(store_path: str | Path, ref: str) -> Path | None:
    """A saved run by file path, by id, or by a unique id prefix (≥ 8 characters); None if none."""
    given = Path(ref).expanduser()
    if ref.endswith(".json") and given.is_file():
        return given
    folder = runs_dir(store_path)
    exact = folder / f"{ref}.json"
    if exact.is_file():
        return exact
    if len(ref) < 8 or not folder.is_dir():
        return None
    matches = sorted(p for p in folder.glob(f"{ref}*.json"))
    if len(matches) > 1:
        raise RunError(f"run id prefix {ref!r} is ambiguous ({len(matches)} runs in {folder})")
    return matches[0] if matches else None


def load_run(path: Path) -> dict[str, Any]:
    """A saved run's dict; RunError if it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"cannot read run {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT or "result" not in data:
        raise RunError(f"{path} is not a saved atlas-sre run")
    return data


def settle_run(store: CapsuleStore, path: Path, correct: bool,
               cfg: ConsolidationConfig | None = None) -> tuple[dict[str, Any], list[Learnt]]:
    """Apply the user's verdict to a saved run: resolve its capsules' uses, learn if it was right.

    Returns the updated run dict and what consolidation did. A run is settled only once (RunError
    the second time): a verdict counted twice would double the evidence.
    """
    data = load_run(path)
    if data.get("feedback"):
        verdict = "correct" if data["feedback"].get("correct") else "wrong"
        raise RunError(f"run {data['id']} was already marked {verdict} on {data['feedback'].get('at')}")
    resolved = []
    for cid in dict.fromkeys(data.get("pending_uses") or []):
        try:
            feedback(store, cid, correct, cfg)
        except KeyError:
            continue  # the capsule was deleted since: nothing to resolve
        resolved.append(cid)
    learnt = consolidate_report(store, {"result": data["result"], "records": data.get("records") or []}, cfg,
                                confirmed=correct, record_uses=False)
    data["feedback"] = {"correct": correct, "at": utcnow().isoformat(), "resolved_uses": resolved,
                        "learnt": [learnt_dict(x) for x in learnt]}
    _write(path, data)
    return data, learnt


def learnt_dict(item: Learnt) -> dict[str, Any]:
    """One consolidation outcome for reports and JSON output."""
    c = item.capsule
    return {"id": c.id, "skill": c.skill, "action": item.action, "status": c.status.value,
            "entity": item.entity, "decisive_command": item.decisive_command,
            "episodes": int(c.metadata.get("episodes", 1)), "trigger": c.trigger}

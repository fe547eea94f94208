"""Durable run state: `results.jsonl` (the resume point) and the run's capsule store files.

Why append + fsync per episode: a run may be killed at any moment (OOM, Ctrl-C, a lost machine).
Each finished episode is one JSON line written and synced before the next is accepted, so a crash
loses at most the episodes still running. A torn last line (killed mid-write) is skipped on load
and the next append starts on a fresh line; a key written twice keeps its first record, so nothing
is ever counted twice (an errored episode re-run on request is replaced by its new record).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

from atlas_sre.bench.config import BenchConfig, EpisodeResult
from atlas_sre.capsules import CapsuleStore
from atlas_sre.capsules.pg import is_url


class ResultLog:
    """`results.jsonl`: one `EpisodeResult` per line, appended by the parent process only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, EpisodeResult]:
        """Every intact record by key; unreadable lines are skipped.

        The first record of a key wins, except that a later non-error record replaces an error
        (a run resumed with `retry_errors` re-ran it): an episode is never counted twice.
        """
        out: dict[str, EpisodeResult] = {}
        if not self.path.exists():
            return out
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    record = EpisodeResult.model_validate_json(line)
                except ValueError:
                    continue  # a line torn by a crash mid-write
                seen = out.get(record.key)
                if seen is None or (seen.outcome == "error" and record.outcome != "error"):
                    out[record.key] = record
        return out

    def append(self, result: EpisodeResult) -> None:
        """Write one line and make it durable before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        prefix = ""
        if self.path.exists() and self.path.stat().st_size > 0:
            with self.path.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    prefix = "\n"  # finish a torn line so this record stands alone
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(prefix + result.model_dump_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def write_json(path: Path, data: object) -> None:
    """Write JSON atomically (temp file + rename): a report is either old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class StoreFiles:
    """The run's capsule stores: one live SQLite file per group plus read-only stage snapshots.

    Stores are rebuilt from `results.jsonl` on every (re)start — consolidation is deterministic,
    so replaying finished stages gives the same store a run that never crashed would have.
    """

    def __init__(self, run_dir: Path) -> None:
        self.root = run_dir / "capsules"

    def reset(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        (self.root / "snapshots").mkdir(parents=True, exist_ok=True)

    def live(self, group: str) -> Path:
        return self.root / f"{group}.sqlite"

    def copy(self, src_group: str, dst_group: str) -> None:
        """The dst store becomes a copy of the src store (freeze, or seed one store from another)."""
        src, dst = self.live(src_group), self.live(dst_group)
        for suffix in ("", "-wal", "-shm"):
            Path(str(dst) + suffix).unlink(missing_ok=True)
        if src.exists():
            sqlite_copy(src, dst)

    def seed(self, library: str | Path, groups: tuple[str, ...]) -> None:
        """Start `groups` as copies of an existing capsule store (`BenchConfig.capsules_from`).

        Why copies: the run learns into its own stores, so the user's library is never written,
        and a resumed run replays from the same starting point.
        """
        if is_url(library):  # a team library on PostgreSQL: copy its rows into the run's SQLite stores
            with CapsuleStore(library, read_only=True) as source:
                rows, seen = source.dump_rows()
            for group in groups:
                for suffix in ("", "-wal", "-shm"):
                    Path(str(self.live(group)) + suffix).unlink(missing_ok=True)
                with CapsuleStore(self.live(group)) as target:
                    target.load_rows(rows, seen)
            return
        for group in groups:
            sqlite_copy(Path(library), self.live(group))

    def snapshot(self, group: str, stage: str) -> Path:
        """A self-contained copy of a group's store for the episodes of one stage to read."""
        dst = self.root / "snapshots" / f"{group}-{stage}.sqlite"
        src = self.live(group)
        dst.unlink(missing_ok=True)
        if src.exists():
            sqlite_copy(src, dst)
        else:
            CapsuleStore(dst).close()  # an empty store: "no capsules yet" is a valid state to read
        return dst


def sqlite_copy(src: Path, dst: Path) -> None:
    """Copy a (WAL-mode) database through SQLite's backup API: committed pages only, one file."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target)
    with sqlite3.connect(dst) as target:
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def private_copy(snapshot: str, workdir: Path) -> str:
    """A worker's own copy of a snapshot: whatever the agent writes (use counts) stays private."""
    dst = workdir / "capsules.sqlite"
    shutil.copyfile(snapshot, dst)
    return str(dst)


def load_run(run_dir: Path) -> tuple[BenchConfig, list[EpisodeResult]]:
    """A finished (or partial) run's config and records, read back from its directory."""
    cfg_path, results = run_dir / "config.json", run_dir / "results.jsonl"
    if not cfg_path.exists() or not results.exists():
        raise ValueError(f"{run_dir} is not a benchmark run (no config.json / results.jsonl)")
    cfg = BenchConfig.model_validate(json.loads(cfg_path.read_text(encoding="utf-8")))
    return cfg, sorted(ResultLog(results).load().values(), key=lambda r: r.key)

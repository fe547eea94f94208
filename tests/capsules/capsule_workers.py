"""Child-process bodies for the capsule concurrency tests (importable under the `spawn` start method)."""

from __future__ import annotations

import os
import time
from typing import Any

from atlas_sre.capsules import Capsule, CapsuleStore


def shared_capsule() -> Capsule:
    """The capsule every writer upserts: concurrent duplicates must collapse into one row."""
    return Capsule(skill="shared_skill", trigger="shared trigger", procedure=["step one", "step two"])


def writer(path: str, ids: list[str], n: int, worker: int, barrier: Any) -> None:
    """n record_use calls spread over `ids`, plus upserts, all racing the other writers."""
    store = CapsuleStore(path)
    barrier.wait(timeout=60)
    for i in range(n):
        store.record_use(
            ids[i % len(ids)], success=(i % 2 == 0), tokens_delta=1.0, time_delta=0.5,
            baseline_success=(i % 3 == 0),
        )
        if i == n // 2:
            store.upsert(shared_capsule())
            store.upsert(Capsule(skill=f"own_{worker}", trigger="own", procedure=[f"step {worker}"]))
    store.close()


def killed_writer(path: str, survivor_id: str, report: Any) -> None:
    """Commit some work, then sit inside an open write transaction until SIGKILLed."""
    store = CapsuleStore(path)
    store.record_use(survivor_id, success=True)  # committed: must survive
    conn = store._conn  # the test needs to stop half-way through a transaction
    sqlite = store.dialect.name == "sqlite"
    if sqlite:
        conn.execute("PRAGMA cache_size = 2")  # tiny page cache: uncommitted pages spill into the WAL file
    wal = path + "-wal"
    report.put(("wal_before", _size(wal) if sqlite else 0))
    for statement in store.dialect.begin_write:  # BEGIN IMMEDIATE, or BEGIN + the PostgreSQL write lock
        conn.execute(statement)
    for i in range(3000):
        conn.execute(
            "INSERT INTO capsules (id, skill, trigger_text, body, status, source, prior_alpha, prior_beta,"
            " created_at, updated_at) VALUES (?, 'doomed', 'doomed', ?, 'active', 'import', 1, 1, 'x', 'x')",
            (f"doomed-{i}", "x" * 500),
        )
    conn.execute("UPDATE capsules SET uses = uses + 1000 WHERE id = ?", (survivor_id,))
    report.put(("wal_during", _size(wal) if sqlite else 0))
    report.put(("ready", 0))
    time.sleep(120)  # never commits


def _size(path: str) -> int:
    return os.path.getsize(path) if os.path.exists(path) else 0


def creator(path: str, worker: int, barrier: Any) -> None:
    """Open a store that does not exist yet, at the same moment as the other workers, and write."""
    barrier.wait(timeout=60)
    with CapsuleStore(path) as store:
        store.upsert(Capsule(skill=f"creator_{worker}", trigger="t", procedure=["p"]))

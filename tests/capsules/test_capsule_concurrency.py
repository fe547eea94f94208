"""Several processes writing one store: no lost update, and a SIGKILLed writer loses nothing committed.

Each test runs on both backends (`store_at`, conftest.py): a SQLite file and a real PostgreSQL server.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import sqlite3

import pytest
from capsule_workers import creator, killed_writer, shared_capsule, writer

from atlas_sre.capsules import Capsule, CapsuleStore

pytestmark = pytest.mark.timeout(180)
SPAWN = mp.get_context("spawn")  # children open their own connection; nothing inherited via fork


def test_eight_processes_lose_no_update(store_at, backend):
    path = store_at("c.sqlite")
    workers, n = 8, 120
    with CapsuleStore(path) as store:
        ids = [store.add(Capsule(skill=f"s{i}", trigger="t", procedure=[f"p{i}"])).id for i in range(3)]
    barrier = SPAWN.Barrier(workers)
    procs = [SPAWN.Process(target=writer, args=(path, ids, n, w, barrier)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(150)
    assert [p.exitcode for p in procs] == [0] * workers

    with CapsuleStore(path) as store:
        caps = [store.get(i) for i in ids]
        # Each worker's i-th call goes to ids[i % 3], success iff i even, baseline success iff i % 3 == 0.
        for k, c in enumerate(caps):
            calls = [i for i in range(n) if i % 3 == k]
            assert c.uses == workers * len(calls)
            assert c.successes == workers * sum(1 for i in calls if i % 2 == 0)
            assert c.failures == workers * sum(1 for i in calls if i % 2 == 1)
            assert c.baseline_successes == workers * sum(1 for i in calls if i % 3 == 0)
            assert c.baseline_failures == workers * sum(1 for i in calls if i % 3 != 0)
            assert c.tokens_delta_n == c.uses and c.tokens_delta_sum == pytest.approx(1.0 * c.uses)
            assert c.time_delta_sum == pytest.approx(0.5 * c.uses)
        assert sum(c.uses for c in caps) == workers * n
        # 8 concurrent upserts of one capsule are one row; each worker's own capsule is one row.
        assert store.count() == 3 + 1 + workers
        assert store.get(shared_capsule().id) is not None
        if backend == "sqlite":
            assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_eight_processes_create_the_same_new_store(store_at, backend, tmp_path):
    path = str(tmp_path / "new" / "c.sqlite") if backend == "sqlite" else store_at("new")
    barrier = SPAWN.Barrier(8)
    procs = [SPAWN.Process(target=creator, args=(path, w, barrier)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 8  # WAL switch + migrations raced safely
    with CapsuleStore(path) as store:
        assert store.count() == 8 and store.schema_version() == 1
        assert store._conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1


def test_sigkill_mid_transaction_keeps_committed_data(store_at, backend):
    path = store_at("c.sqlite")
    with CapsuleStore(path) as store:
        survivor = store.add(Capsule(skill="survivor", trigger="t", procedure=["p"]))
        store.record_use(survivor.id, success=False)
        before = store.counters()

    report = SPAWN.Queue()
    proc = SPAWN.Process(target=killed_writer, args=(path, survivor.id, report))
    proc.start()
    seen = {}
    while "ready" not in seen:
        try:
            key, value = report.get(timeout=60)
        except queue.Empty:
            proc.kill()
            pytest.fail("writer never reached the open transaction")
        seen[key] = value
    if backend == "sqlite":
        # The uncommitted transaction really reached the disk (spilled WAL frames), so recovery is tested.
        assert seen["wal_during"] > seen["wal_before"]
    else:  # the server holds the open write transaction (and the store's write lock) when the client dies
        with CapsuleStore(path, read_only=True) as store:  # read-write would queue behind that lock
            assert store._conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                       " AND state = 'idle in transaction'").fetchone()[0] == 1
    proc.kill()  # SIGKILL: no Python cleanup, no rollback, no close
    proc.join(30)
    assert proc.exitcode == -signal.SIGKILL

    with CapsuleStore(path) as store:
        if backend == "sqlite":
            assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        got = store.get(survivor.id)
        assert (got.uses, got.successes, got.failures) == (2, 1, 1)  # both commits, not the +1000
        assert store.count() == 1  # none of the 3000 uncommitted rows
        assert store.counters()["content_version"] == before["content_version"]
        store.record_use(survivor.id, success=True)  # the dead writer's lock is gone
        assert store.get(survivor.id).uses == 3
    if backend == "sqlite":
        raw = sqlite3.connect(path)
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        raw.close()

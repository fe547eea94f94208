"""SQLite capsule store: one file, safe with several processes writing at once.

Why these settings:
- WAL: readers never block the writer and vice versa; a process killed mid-transaction leaves only
  uncommitted WAL frames, which the next opener ignores.
- `busy_timeout`: concurrent writers wait for the lock instead of failing with "database is locked".
- every write is an explicit `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so two
  writers never both read then both try to upgrade (the deferred-transaction deadlock SQLite answers
  with an immediate SQLITE_BUSY that busy_timeout cannot help).
- counters are updated in SQL (`uses = uses + 1`), never read-modify-written in Python, so no update
  is lost however writers interleave.
- `synchronous=NORMAL` (default): committed data survives any process crash; on power loss the last
  few commits may be lost but the file stays consistent. Pass `synchronous="FULL"` to trade speed.

One `CapsuleStore` holds one connection guarded by a lock (thread-safe). Do not share an open store
across `fork()`: open a new one in the child.

A `postgresql://…` location opens the same store on a PostgreSQL database instead (a team's shared
library): the methods, SQL and results are the same; `pg.py` supplies the connection and the few
dialect differences (`schema.Dialect`), including the write lock that plays `BEGIN IMMEDIATE`'s part.
Errors are `sqlite3`'s exception classes on both backends, so callers catch one family.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from atlas_sre.capsules.exchange import dump_capsules, load_capsules
from atlas_sre.capsules.model import Capsule, CapsuleStatus, utcnow
from atlas_sre.capsules.pg import POSTGRES, PgConnection, is_url, redact
from atlas_sre.capsules.schema import (
    COLUMNS,
    COPY_SQL,
    INSERT_SQL,
    SCHEMA_VERSION,
    SQLITE,
    UPSERT_SQL,
    Dialect,
    from_row,
    to_row,
)

ENV_VAR = "ATLAS_SRE_CAPSULES"


def default_store_path(path: str | Path | None = None) -> Path:
    """Argument, else $ATLAS_SRE_CAPSULES, else $XDG_DATA_HOME (~/.local/share)/atlas-sre/capsules.sqlite."""
    if path:
        return Path(path).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "atlas-sre" / "capsules.sqlite"


def store_location(location: str | Path | None = None) -> str | Path:
    """Like `default_store_path`, but a `postgresql://…` URL (argument or $ATLAS_SRE_CAPSULES) is
    returned as given: `Path` would fold its `//` and lose the host."""
    if is_url(location):
        return str(location)
    if not location and is_url(os.environ.get(ENV_VAR)):
        return os.environ[ENV_VAR]
    return default_store_path(location)


class CapsuleExistsError(ValueError):
    """`add` of an id that is already stored (use `upsert` to update)."""


class SchemaTooNewError(RuntimeError):
    """The file was written by a newer atlas-sre; refusing to guess its layout."""


class CapsuleStore:
    """Capsules in one SQLite file or PostgreSQL database; see the module docstring for the
    concurrency contract. `path` is the file, or the URL with its password redacted."""

    path: Path | str
    dialect: Dialect

    def __init__(
        self, path: str | Path | None = None, *, busy_timeout_ms: int = 30_000, synchronous: str = "NORMAL",
        read_only: bool = False,
    ) -> None:
        """`read_only`: open an existing file without ever writing (no WAL switch, no migration), so
        a store on a read-only file or folder can still be listed and searched; writes then fail
        with sqlite3's "attempt to write a readonly database"."""
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"synchronous must be OFF/NORMAL/FULL/EXTRA, got {synchronous!r}")
        location = store_location(path)
        self.read_only = read_only
        self._lock = threading.RLock()
        if isinstance(location, str):
            self._open_postgres(location, busy_timeout_ms / 1000)
            return
        self.path, self.dialect = location, SQLITE
        if read_only:
            if not self.path.is_file():
                raise sqlite3.OperationalError("unable to open database file (no such file)")
            self._conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                         timeout=busy_timeout_ms / 1000, isolation_level=None,
                                         check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
            )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if read_only:
            version = self.schema_version()
            if version > SCHEMA_VERSION:
                raise SchemaTooNewError(f"{self.path}: schema {version} > supported {SCHEMA_VERSION}")
            return
        self._enable_wal(busy_timeout_ms / 1000)
        self._conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        self._migrate()

    def _open_postgres(self, url: str, timeout_s: float) -> None:
        """Connect (read-only sessions refuse writes server-side), then migrate or check the schema."""
        self.path, self.dialect = redact(url), POSTGRES
        self._conn = PgConnection(url, read_only=self.read_only, timeout_s=timeout_s)  # type: ignore[assignment]
        if not self.read_only:
            try:
                self._migrate()
            except BaseException:
                self.close()  # a refused (newer) schema must not leave a server connection behind
                raise
            return
        try:
            version = self.schema_version()
        except sqlite3.Error:
            self.close()
            raise sqlite3.OperationalError("no capsule store in this database (open it read-write once)") from None
        if version > SCHEMA_VERSION:
            self.close()
            raise SchemaTooNewError(f"{self.path}: schema {version} > supported {SCHEMA_VERSION}")

    def verify(self) -> None:
        """Raise `sqlite3.DatabaseError` unless the file is intact (`PRAGMA quick_check`).

        Why: SQLite reports a corrupt page only when a statement touches it, so a write can land in
        a damaged file and succeed. Commands that write check first, and refuse a damaged store.
        """
        if self.dialect is POSTGRES:  # the server guards its pages; check that the tables are there
            with self._lock:
                self._conn.execute("SELECT count(*) FROM capsules JOIN meta ON false").fetchone()
            return
        with self._lock:
            rows = [r[0] for r in self._conn.execute("PRAGMA quick_check(1)").fetchall()]
        if rows != ["ok"]:
            detail = " ".join("; ".join(map(str, rows)).split())[:120]
            raise sqlite3.DatabaseError(f"database disk image is malformed ({detail})")

    # -- plumbing ---------------------------------------------------------------------------------
    @contextmanager
    def _transaction(self, begin: tuple[str, ...]) -> Iterator[sqlite3.Connection]:
        """One explicit transaction on this connection, rolled back on any exception."""
        with self._lock:
            self._conn.execute(begin[0])
            try:
                for statement in begin[1:]:
                    self._conn.execute(statement)
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction: `IMMEDIATE` takes the write lock up front, so writers queue on
        `busy_timeout` instead of failing to upgrade a read lock half-way."""
        return self._transaction(self.dialect.begin_write)

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        """A read transaction: several SELECTs see one snapshot (ending it changes nothing)."""
        return self._transaction(self.dialect.begin_read)

    def _enable_wal(self, timeout_s: float) -> None:
        """Switch a new file to WAL, retrying while another opener holds it.

        Why a loop: changing the journal mode needs an exclusive lock, and SQLite answers SQLITE_BUSY
        for it at once, without calling the busy handler, when several processes create the same
        file at the same moment. One of them wins; the others see WAL already set on a retry.
        """
        deadline = time.monotonic() + timeout_s
        delay = 0.005
        while True:
            try:
                if self._conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                transient = "locked" in str(exc) or "busy" in str(exc)
                if not transient or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.25)

    def _migrate(self) -> None:
        with self._write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM schema_version").fetchone()
            current = row[0] if row else 0
            if row is None:
                db.execute("INSERT INTO schema_version (version) VALUES (0)")
            if current > SCHEMA_VERSION:
                raise SchemaTooNewError(f"{self.path}: schema {current} > supported {SCHEMA_VERSION}")
            for statements in self.dialect.migrations[current:]:
                for sql in statements:
                    db.execute(sql)
            db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))

    def schema_version(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT version FROM schema_version").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> CapsuleStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- capsules ---------------------------------------------------------------------------------
    def add(self, capsule: Capsule) -> Capsule:
        """Insert a new capsule; raises `CapsuleExistsError` if its id is stored already."""
        try:
            with self._write() as db:
                db.execute(INSERT_SQL, to_row(capsule))
        except sqlite3.IntegrityError as exc:
            raise CapsuleExistsError(capsule.id) from exc
        return self.get(capsule.id)  # type: ignore[return-value]

    def upsert(self, capsule: Capsule) -> Capsule:
        """Insert, or update the content of the same id (duplicates collapse into one row)."""
        self.upsert_many([capsule])
        return self.get(capsule.id)  # type: ignore[return-value]

    def upsert_many(self, capsules: Iterable[Capsule]) -> int:
        """Upsert in one transaction (bulk import); returns how many were given."""
        now = utcnow()
        rows = [to_row(c.model_copy(update={"updated_at": now})) for c in capsules]
        with self._write() as db:
            db.executemany(UPSERT_SQL, rows)
        return len(rows)

    def get(self, capsule_id: str) -> Capsule | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM capsules WHERE id = ?", (capsule_id,)).fetchone()
        return from_row(row) if row else None

    def get_many(self, ids: list[str]) -> dict[str, Capsule]:
        if not ids:
            return {}
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM capsules WHERE id IN ({', '.join('?' * len(ids))})", ids
            ).fetchall()
        return {r["id"]: from_row(r) for r in rows}

    def list(
        self, status: CapsuleStatus | str | Iterable[CapsuleStatus | str] | None = None
    ) -> list[Capsule]:
        """All capsules in insertion order, optionally only those with the given status(es)."""
        sql, params = "SELECT * FROM capsules", []
        if status is not None:
            wanted = [status] if isinstance(status, (str, CapsuleStatus)) else list(status)
            params = [CapsuleStatus(s).value for s in wanted]
            sql += f" WHERE status IN ({', '.join('?' * len(params))})"
        with self._lock:
            rows = self._conn.execute(sql + f" ORDER BY {self.dialect.order_by}", params).fetchall()
        return [from_row(r) for r in rows]

    def count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM capsules").fetchone()[0]

    def set_status(self, capsule_id: str, status: CapsuleStatus | str) -> None:
        with self._write() as db:
            cur = db.execute(
                "UPDATE capsules SET status = ?, updated_at = ? WHERE id = ?",
                (CapsuleStatus(status).value, utcnow().isoformat(), capsule_id),
            )
            if cur.rowcount == 0:
                raise KeyError(capsule_id)

    def delete(self, capsule_id: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM capsules WHERE id = ?", (capsule_id,)).rowcount > 0

    # -- statistics -------------------------------------------------------------------------------
    def record_use(
        self,
        capsule_id: str,
        success: bool | None,
        tokens_delta: float | None = None,
        time_delta: float | None = None,
        *,
        baseline_success: bool | None = None,
    ) -> None:
        """Count one use atomically. `success=None`: used, outcome unknown (no ground truth).

        Deltas are (with capsule − without) for the same incident, in tokens and seconds; None when
        no paired baseline run exists. `baseline_success` is that paired run's outcome.
        """
        params = {
            "id": capsule_id, "now": utcnow().isoformat(),
            "s": int(success is True), "f": int(success is False),
            "bs": int(baseline_success is True), "bf": int(baseline_success is False),
            "td": float(tokens_delta or 0.0), "tn": int(tokens_delta is not None),
            "xd": float(time_delta or 0.0), "xn": int(time_delta is not None),
        }
        with self._write() as db:
            cur = db.execute(
                "UPDATE capsules SET uses = uses + 1, successes = successes + :s, failures = failures + :f,"
                " baseline_successes = baseline_successes + :bs,"
                " baseline_failures = baseline_failures + :bf,"
                " tokens_delta_sum = tokens_delta_sum + :td, tokens_delta_n = tokens_delta_n + :tn,"
                " time_delta_sum = time_delta_sum + :xd, time_delta_n = time_delta_n + :xn,"
                " last_used_at = :now WHERE id = :id",
                params,
            )
            if cur.rowcount == 0:
                raise KeyError(capsule_id)

    def record_incident(self, count: int = 1) -> int:
        """Count incidents the system handled (with or without capsules); returns the new total."""
        with self._write() as db:
            db.execute("UPDATE meta SET value = value + ? WHERE key = 'incidents_seen'", (count,))
            return db.execute("SELECT value FROM meta WHERE key = 'incidents_seen'").fetchone()[0]

    def counters(self) -> dict[str, int]:
        """content_version, status_version, incidents_seen (cheap: used per retrieval query)."""
        with self._lock:
            return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def index_snapshot(self) -> tuple[dict[str, int], list[sqlite3.Row]]:
        """Counters + the text retrieval indexes, read in one snapshot so they agree."""
        with self._read() as db:
            counters = dict(db.execute("SELECT key, value FROM meta").fetchall())
            rows = db.execute("SELECT id, skill, trigger_text, body, status FROM capsules"
                              f" ORDER BY {self.dialect.order_by}")
            return counters, rows.fetchall()

    def statuses(self) -> tuple[int, dict[str, str]]:
        """status_version + id → status, read together (the retriever's cheap refresh path)."""
        with self._read() as db:
            version = db.execute("SELECT value FROM meta WHERE key = 'status_version'").fetchone()[0]
            return version, dict(db.execute("SELECT id, status FROM capsules").fetchall())

    # -- moving a library between stores --------------------------------------------------------
    def dump_rows(self) -> tuple[list[dict[str, Any]], int]:
        """Every capsule row verbatim, in insertion order, and incidents_seen: one snapshot."""
        with self._read() as db:
            seen = db.execute("SELECT value FROM meta WHERE key = 'incidents_seen'").fetchone()[0]
            rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM capsules ORDER BY {self.dialect.order_by}")
            return [dict(r) for r in rows.fetchall()], int(seen)

    def load_rows(self, rows: list[dict[str, Any]], incidents_seen: int = 0) -> int:
        """Copy rows verbatim (same id: the given row wins, history included), in one transaction;
        incidents_seen becomes the larger of the two counts. Returns how many rows were given."""
        with self._write() as db:
            if rows:
                db.executemany(COPY_SQL, rows)
            db.execute("UPDATE meta SET value = ? WHERE key = 'incidents_seen' AND value < ?",
                       (incidents_seen, incidents_seen))
        return len(rows)

    # -- JSON -------------------------------------------------------------------------------------
    def export_json(self, path: str | Path | None = None, *, status: Any = None) -> str:
        """All (or the given status') capsules as a JSON list; also written to `path` if given."""
        text = dump_capsules(self.list(status))
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def import_json(self, data: str | bytes | Path | list[Any] | dict[str, Any]) -> list[str]:
        """Upsert capsules from JSON text, a `Path`, or decoded JSON; returns their ids in order."""
        capsules = load_capsules(data)
        self.upsert_many(capsules)
        return [c.id for c in capsules]

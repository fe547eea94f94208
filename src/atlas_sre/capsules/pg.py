"""PostgreSQL backend of `CapsuleStore`: a connection that speaks the store's SQLite-flavoured SQL.

Why an adapter rather than a second store: the store's methods, SQL and transaction rules stay in
one place (`store.py`), so both backends give the same results by construction. This module only
supplies what differs (`Dialect`): the schema (`PG_MIGRATIONS`, one entry per SQLite migration, so
`schema_version` means the same on both), placeholders (`?`/`:name` → `%s`/`%(name)s`), rows that
read like `sqlite3.Row`, errors raised as `sqlite3`'s classes (callers catch one family), and the
write lock.

Concurrency: every write transaction first takes one transaction-scoped advisory lock
(`pg_advisory_xact_lock`), the equivalent of SQLite's `BEGIN IMMEDIATE`: writers queue instead of
deadlocking on the `meta` counter row, and concurrent openers run migrations one at a time. A
killed client's transaction is rolled back by the server and its lock released. Read transactions
are `REPEATABLE READ`, so several SELECTs see one snapshot, as in SQLite.

psycopg is optional (`pip install 'atlas-sre[postgres]'`) and imported only when a URL is opened.
The password in a URL is never printed: `redact` replaces it wherever the store names itself.
"""

from __future__ import annotations

import importlib
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from atlas_sre.capsules.schema import MIGRATIONS, Dialect

URL_SCHEMES = ("postgresql://", "postgres://")
INSTALL_HINT = "pip install 'atlas-sre[postgres]'"
# One 64-bit advisory lock key for "the capsule store of this database" (the bytes of "atlascap").
WRITE_LOCK_KEY = int.from_bytes(b"atlascap", "big") >> 1

_TRIGGER_FUNCTIONS = [
    """CREATE FUNCTION capsules_bump_content() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'content_version'; RETURN NULL; END $$""",
    """CREATE FUNCTION capsules_bump_status() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'status_version'; RETURN NULL; END $$""",
]

PG_MIGRATIONS: list[list[str]] = [
    [  # 1: initial schema (SQLite's migration 1; REAL → DOUBLE PRECISION, rowid → seq)
        """CREATE TABLE capsules (
            id TEXT PRIMARY KEY,
            skill TEXT NOT NULL,
            trigger_text TEXT NOT NULL,
            body TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL CHECK (status IN ('active','provisional','deprecated','pruned')),
            source TEXT NOT NULL,
            prior_alpha DOUBLE PRECISION NOT NULL,
            prior_beta DOUBLE PRECISION NOT NULL,
            uses INTEGER NOT NULL DEFAULT 0,
            successes INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            baseline_successes INTEGER NOT NULL DEFAULT 0,
            baseline_failures INTEGER NOT NULL DEFAULT 0,
            tokens_delta_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
            tokens_delta_n INTEGER NOT NULL DEFAULT 0,
            time_delta_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
            time_delta_n INTEGER NOT NULL DEFAULT 0,
            born_at_incident BIGINT NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            last_used_at TEXT,
            seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
        )""",
        "CREATE INDEX capsules_status ON capsules(status)",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)",
        "INSERT INTO meta(key, value) VALUES ('content_version', 0), ('status_version', 0), "
        "('incidents_seen', 0)",
        *_TRIGGER_FUNCTIONS,
        """CREATE TRIGGER capsules_aid AFTER INSERT OR DELETE ON capsules
            FOR EACH ROW EXECUTE FUNCTION capsules_bump_content()""",
        """CREATE TRIGGER capsules_au_content AFTER UPDATE OF skill, trigger_text, body ON capsules
            FOR EACH ROW WHEN (old.skill IS DISTINCT FROM new.skill
              OR old.trigger_text IS DISTINCT FROM new.trigger_text OR old.body IS DISTINCT FROM new.body)
            EXECUTE FUNCTION capsules_bump_content()""",
        """CREATE TRIGGER capsules_au_status AFTER UPDATE OF status ON capsules
            FOR EACH ROW WHEN (old.status IS DISTINCT FROM new.status) EXECUTE FUNCTION capsules_bump_status()""",
    ],
]
assert len(PG_MIGRATIONS) == len(MIGRATIONS), "every SQLite migration needs its PostgreSQL twin"

POSTGRES = Dialect(
    name="postgresql",
    begin_write=("BEGIN", f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"),
    begin_read=("BEGIN ISOLATION LEVEL REPEATABLE READ",),
    order_by="seq",
    migrations=PG_MIGRATIONS,
)


def is_url(location: object) -> bool:
    """Whether a store argument names a PostgreSQL database rather than a SQLite file."""
    return isinstance(location, str) and location.lower().startswith(URL_SCHEMES)


def redact(url: str) -> str:
    """The URL with its password (if any) replaced by `***`: safe to print and log."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}"))


class PostgresUnavailableError(sqlite3.OperationalError):
    """psycopg is missing or the server cannot be reached (the message names the fix)."""


_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\?|:(\w+)|%")


def translate(sql: str) -> str:
    """`?` → `%s`, `:name` → `%(name)s`, `%` → `%%`; quoted literals keep their text (not their `%`)."""
    def swap(m: re.Match[str]) -> str:
        token = m.group(0)
        if token.startswith("'"):
            return token.replace("%", "%%")
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return f"%({m.group(1)})s"
    return _PLACEHOLDER.sub(swap, sql)


class Row(tuple):  # type: ignore[type-arg]
    """A result row readable by position, by column name and as a mapping (like `sqlite3.Row`)."""

    names: tuple[str, ...]

    def __new__(cls, values: Sequence[Any], names: tuple[str, ...]) -> Row:
        row = super().__new__(cls, values)
        row.names = names
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        return super().__getitem__(self.names.index(key) if isinstance(key, str) else key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_factory(cursor: Any) -> Any:
    names = tuple(d.name for d in cursor.description or ())
    return lambda values: Row(values, names)


def _as_sqlite_error(exc: Exception, secret: str | None) -> sqlite3.Error:
    """psycopg's error as the `sqlite3` class callers already catch, with a one-line message."""
    errors = importlib.import_module("psycopg").errors
    text = " ".join(str(exc).split()) or type(exc).__name__
    if secret:
        text = text.replace(secret, "***")
    if isinstance(exc, errors.IntegrityError):
        return sqlite3.IntegrityError(text)
    if isinstance(exc, errors.ReadOnlySqlTransaction):
        return sqlite3.OperationalError(f"attempt to write a readonly database ({text})")
    if isinstance(exc, errors.OperationalError):
        return sqlite3.OperationalError(text)
    return sqlite3.DatabaseError(text)


@dataclass
class Cursor:
    """What the store reads from a statement: `fetchone`, `fetchall`, `rowcount`."""

    raw: Any

    def fetchone(self) -> Row | None:
        return self.raw.fetchone() if self.raw.description else None  # type: ignore[no-any-return]

    def fetchall(self) -> list[Row]:
        return self.raw.fetchall() if self.raw.description else []  # type: ignore[no-any-return]

    @property
    def rowcount(self) -> int:
        return int(self.raw.rowcount)


class PgConnection:
    """An autocommit psycopg connection with `sqlite3.Connection`'s `execute`/`executemany`/`close`.

    Autocommit, like the store's SQLite connection (`isolation_level=None`): the store opens every
    transaction itself, so a single SELECT never leaves a transaction (and its locks) open.
    """

    def __init__(self, url: str, *, read_only: bool = False, timeout_s: float = 30.0) -> None:
        try:
            psycopg = importlib.import_module("psycopg")
        except ImportError:
            raise PostgresUnavailableError(
                f"PostgreSQL capsule stores need psycopg: {INSTALL_HINT}") from None
        self._secret = urlsplit(url).password
        try:
            self.raw = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout_s)),
                                       row_factory=_row_factory)
        except psycopg.Error as exc:
            reason = _as_sqlite_error(exc, self._secret)
            raise PostgresUnavailableError(
                f"cannot reach PostgreSQL at {redact(url)}: {reason} (is the server running and the URL right?)"
            ) from None
        # SQLite's busy_timeout: a writer waits this long for the write lock, then fails (not forever).
        self.execute(f"SET lock_timeout = {max(1, int(timeout_s * 1000))}")
        if read_only:
            self.execute("SET default_transaction_read_only = on")

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Cursor:
        try:
            if params is None or len(params) == 0:
                return Cursor(self.raw.execute(sql))
            return Cursor(self.raw.execute(translate(sql), params))
        except importlib.import_module("psycopg").Error as exc:
            raise _as_sqlite_error(exc, self._secret) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]) -> None:
        try:
            with self.raw.cursor() as cur:
                cur.executemany(translate(sql), list(rows))
        except importlib.import_module("psycopg").Error as exc:
            raise _as_sqlite_error(exc, self._secret) from exc

    def close(self) -> None:
        self.raw.close()


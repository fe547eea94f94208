"""SQLite schema of the capsule store, its forward-only migrations, and the row <-> Capsule mapping.

Each migration is a list of single statements (never `executescript`, which would COMMIT behind our
explicit transaction). `schema_version` holds the number of migrations applied; a migration is
appended, never edited, once released.

Change counters in `meta` are maintained by triggers so *any* writer (another process, a future CLI,
a hand-written SQL fix) invalidates retrieval caches correctly:
- `content_version`: text that retrieval indexes changed (insert, delete, skill/trigger/body edit);
- `status_version`: a status changed (the retriever refreshes a status mask, no index rebuild);
- `incidents_seen`: incidents processed by the system (pruning's "too specific" denominator).
`record_use` touches neither version, so hot statistics writes never invalidate the index.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atlas_sre.capsules.model import Capsule

MIGRATIONS: list[list[str]] = [
    [  # 1: initial schema
        """CREATE TABLE capsules (
            id TEXT PRIMARY KEY,
            skill TEXT NOT NULL,
            trigger_text TEXT NOT NULL,
            body TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL CHECK (status IN ('active','provisional','deprecated','pruned')),
            source TEXT NOT NULL,
            prior_alpha REAL NOT NULL,
            prior_beta REAL NOT NULL,
            uses INTEGER NOT NULL DEFAULT 0,
            successes INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            baseline_successes INTEGER NOT NULL DEFAULT 0,
            baseline_failures INTEGER NOT NULL DEFAULT 0,
            tokens_delta_sum REAL NOT NULL DEFAULT 0,
            tokens_delta_n INTEGER NOT NULL DEFAULT 0,
            time_delta_sum REAL NOT NULL DEFAULT 0,
            time_delta_n INTEGER NOT NULL DEFAULT 0,
            born_at_incident INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            last_used_at TEXT
        )""",
        "CREATE INDEX capsules_status ON capsules(status)",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO meta(key, value) VALUES ('content_version', 0), ('status_version', 0), "
        "('incidents_seen', 0)",
        """CREATE TRIGGER capsules_ai AFTER INSERT ON capsules BEGIN
            UPDATE meta SET value = value + 1 WHERE key = 'content_version'; END""",
        """CREATE TRIGGER capsules_ad AFTER DELETE ON capsules BEGIN
            UPDATE meta SET value = value + 1 WHERE key = 'content_version'; END""",
        """CREATE TRIGGER capsules_au_content AFTER UPDATE OF skill, trigger_text, body ON capsules
            WHEN old.skill IS NOT new.skill OR old.trigger_text IS NOT new.trigger_text
              OR old.body IS NOT new.body
            BEGIN UPDATE meta SET value = value + 1 WHERE key = 'content_version'; END""",
        """CREATE TRIGGER capsules_au_status AFTER UPDATE OF status ON capsules
            WHEN old.status IS NOT new.status
            BEGIN UPDATE meta SET value = value + 1 WHERE key = 'status_version'; END""",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Dialect:
    """What differs between the store's backends; everything else is the same SQL (see `pg.py`).

    `begin_write`/`begin_read`: the statements that open a write / snapshot-read transaction;
    `order_by`: the insertion-order column (`list()` and the retrieval index read rows in it, so
    ranking ties break the same way on both backends); `migrations`: this backend's schema steps.
    """

    name: str
    begin_write: tuple[str, ...]
    begin_read: tuple[str, ...]
    order_by: str
    migrations: list[list[str]]


SQLITE = Dialect(name="sqlite", begin_write=("BEGIN IMMEDIATE",), begin_read=("BEGIN",), order_by="rowid",
                 migrations=MIGRATIONS)

STATS_COLUMNS = (
    "uses", "successes", "failures", "baseline_successes", "baseline_failures",
    "tokens_delta_sum", "tokens_delta_n", "time_delta_sum", "time_delta_n",
)
COLUMNS = (
    "id", "skill", "trigger_text", "body", "version", "status", "source", "prior_alpha", "prior_beta",
    *STATS_COLUMNS, "born_at_incident", "created_at", "updated_at", "last_used_at",
)


def _body(c: Capsule) -> str:
    # sort_keys + fixed separators: identical content gives identical text, so the trigger that
    # bumps content_version (and upsert's version bump) fire only on real changes.
    return json.dumps(
        {"procedure": c.procedure, "commands": c.commands,
         "evidence": [e.model_dump() for e in c.evidence],
         "root_cause": c.root_cause.model_dump() if c.root_cause else None, "metadata": c.metadata},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )


def to_row(c: Capsule) -> dict[str, Any]:
    d = c.model_dump(exclude={"procedure", "commands", "evidence", "root_cause", "metadata", "trigger"})
    d.update(trigger_text=c.trigger, body=_body(c), status=c.status.value)
    for k in ("created_at", "updated_at", "last_used_at"):
        d[k] = d[k].isoformat() if isinstance(d[k], datetime) else d[k]
    return {k: d[k] for k in COLUMNS}


def from_row(row: sqlite3.Row) -> Capsule:
    d = dict(row)
    d.pop("seq", None)  # PostgreSQL's insertion-order column (SQLite's rowid is not selected by `*`)
    d.update(json.loads(d.pop("body")))
    d["trigger"] = d.pop("trigger_text")
    return Capsule.model_validate(d)


INSERT_SQL = (
    f"INSERT INTO capsules ({', '.join(COLUMNS)}) VALUES ("
    + ", ".join(
        "(SELECT value FROM meta WHERE key = 'incidents_seen')" if c == "born_at_incident" else f":{c}"
        for c in COLUMNS
    )
    + ")"
)
# `<>` is null-safe here (the three columns are NOT NULL) and, unlike SQLite's `IS NOT`, PostgreSQL
# reads it too; CASE turns the condition into 0/1, which PostgreSQL will not add to an integer itself.
_CHANGED = (
    "(capsules.skill <> excluded.skill OR capsules.trigger_text <> excluded.trigger_text"
    " OR capsules.body <> excluded.body)"
)
# Content wins from the incoming capsule; statistics, status, prior, source and created_at stay with
# the stored row: they belong to this store's history (record_use / pruning), not to the file.
UPSERT_SQL = (
    INSERT_SQL + " ON CONFLICT(id) DO UPDATE SET skill = excluded.skill, trigger_text = excluded.trigger_text,"
    f" body = excluded.body, version = capsules.version + CASE WHEN {_CHANGED} THEN 1 ELSE 0 END,"
    f" updated_at = CASE WHEN {_CHANGED} THEN excluded.updated_at ELSE capsules.updated_at END"
)
# A verbatim row copy between stores (`CapsuleStore.load_rows`): every column comes from the source,
# born_at_incident and statistics included, so a moved library keeps its whole history.
COPY_SQL = (
    f"INSERT INTO capsules ({', '.join(COLUMNS)}) VALUES ({', '.join(f':{c}' for c in COLUMNS)})"
    " ON CONFLICT(id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "id")
)

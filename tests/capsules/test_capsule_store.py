"""Capsule store on both backends (`store_at`, conftest.py): seed round-trip, upsert semantics,
atomic statistics, counters, paths, migrations."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from capsule_corpus import CAPSULES

from atlas_sre.capsules import (
    Capsule,
    CapsuleExistsError,
    CapsuleStatus,
    CapsuleStore,
    SchemaTooNewError,
    default_store_path,
    load_capsules,
)
from atlas_sre.capsules.schema import SCHEMA_VERSION

SEED = {"skill": "service_mesh_debug", "trigger": "503 errors in Kubernetes",
        "procedure": ["istioctl analyze", "check virtualservice configuration", "verify destination rules",
                      "validate mTLS policies"], "success_rate": 0.88}


@pytest.fixture
def store(store_at):
    with CapsuleStore(store_at("c.sqlite")) as s:
        yield s


def test_seed_round_trip(store, tmp_path, store_at):
    [cid] = store.import_json(json.dumps(SEED))  # the seed's single object is a valid import
    exported = json.loads(store.export_json(tmp_path / "out.json"))
    assert isinstance(exported, list) and len(exported) == 1
    assert {k: exported[0][k] for k in SEED} == SEED  # the seed's keys and values survive verbatim
    assert exported[0]["id"] == cid and exported[0]["status"] == "active"
    assert json.loads((tmp_path / "out.json").read_text()) == exported

    with CapsuleStore(store_at("other.sqlite")) as other:
        assert other.import_json(Path(tmp_path / "out.json")) == [cid]
        again = json.loads(other.export_json())
    for volatile in ("updated_at",):
        exported[0].pop(volatile), again[0].pop(volatile)
    assert again == exported  # export -> import -> export is a fixed point (prior not re-applied)


def test_export_import_preserves_statistics_and_filters_status(store, store_at):
    store.upsert_many(CAPSULES)
    first = CAPSULES[0].id
    for ok in (True, True, False, None):
        store.record_use(first, ok, tokens_delta=-40, time_delta=-3.0, baseline_success=False)
    store.set_status(CAPSULES[1].id, "deprecated")
    assert len(json.loads(store.export_json(status="deprecated"))) == 1
    with CapsuleStore(store_at("copy.sqlite")) as copy:
        copy.import_json(store.export_json())
        got, want = copy.get(first), store.get(first)
        assert (got.uses, got.successes, got.failures, got.baseline_failures) == (4, 2, 1, 4)
        assert got.model_dump(exclude={"updated_at"}) == want.model_dump(exclude={"updated_at"})
        assert copy.get(CAPSULES[1].id).status is CapsuleStatus.DEPRECATED


def test_import_accepts_envelope_and_warns_on_unknown_keys(store, caplog):
    ids = store.import_json({"capsules": [SEED, {**SEED, "skill": "other", "procedures": ["typo"]}]})
    assert len(ids) == 2 and store.count() == 2
    assert "procedures" in caplog.text
    with pytest.raises(ValueError):
        load_capsules("[1, 2]")


def test_duplicates_upsert_into_one_row(store):
    a = store.upsert(Capsule.model_validate(SEED))
    store.record_use(a.id, True)
    store.set_status(a.id, CapsuleStatus.PROVISIONAL)
    same = Capsule.model_validate({**SEED, "skill": "Service_Mesh_Debug", "success_rate": 0.1,
                                   "procedure": [s.upper() + "." for s in SEED["procedure"]]})
    b = store.upsert(same)
    assert b.id == a.id and store.count() == 1
    assert b.version == 2 and b.skill == "Service_Mesh_Debug"  # content changed -> new version
    assert (b.uses, b.successes, b.status) == (1, 1, CapsuleStatus.PROVISIONAL)  # history kept
    assert (b.prior_alpha, b.prior_beta) == (8.8, 1.2) and b.created_at == a.created_at
    c = store.upsert(same)
    assert c.version == 2 and c.updated_at == b.updated_at  # identical content: no new version
    with pytest.raises(CapsuleExistsError):
        store.add(Capsule.model_validate(SEED))


def test_record_use_counts_and_sums(store):
    cid = store.add(Capsule(skill="s", trigger="t", procedure=["p"])).id
    store.record_use(cid, True, tokens_delta=-100, time_delta=-10.0, baseline_success=False)
    store.record_use(cid, False, tokens_delta=50, baseline_success=True)
    store.record_use(cid, None)
    c = store.get(cid)
    assert (c.uses, c.successes, c.failures) == (3, 1, 1)
    assert (c.baseline_successes, c.baseline_failures) == (1, 1)
    assert (c.tokens_delta_sum, c.tokens_delta_n, c.tokens_delta_mean) == (-50.0, 2, -25.0)
    assert (c.time_delta_sum, c.time_delta_n, c.time_delta_mean) == (-10.0, 1, -10.0)
    assert c.success_rate == pytest.approx(2 / 4) and c.last_used_at is not None
    with pytest.raises(KeyError):
        store.record_use("cap-missing", True)


def test_list_status_delete(store):
    store.upsert_many(CAPSULES)
    store.set_status(CAPSULES[0].id, CapsuleStatus.PRUNED)
    store.set_status(CAPSULES[1].id, "deprecated")
    assert [c.id for c in store.list()] == [c.id for c in CAPSULES]
    assert [c.id for c in store.list("pruned")] == [CAPSULES[0].id]
    assert len(store.list([CapsuleStatus.ACTIVE, CapsuleStatus.DEPRECATED])) == len(CAPSULES) - 1
    assert store.delete(CAPSULES[0].id) and not store.delete(CAPSULES[0].id)
    assert store.get(CAPSULES[0].id) is None and store.count() == len(CAPSULES) - 1
    with pytest.raises(KeyError):
        store.set_status("cap-missing", "active")
    with pytest.raises(ValueError):
        store.set_status(CAPSULES[1].id, "bogus")


def test_change_counters_track_text_and_status_not_statistics(store):
    base = store.counters()
    c = store.add(Capsule(skill="s", trigger="t", procedure=["p"]))
    after_add = store.counters()
    assert after_add["content_version"] == base["content_version"] + 1
    store.record_use(c.id, True)
    assert store.counters() == after_add
    store.upsert(c)  # same content
    assert store.counters()["content_version"] == after_add["content_version"]
    store.upsert(c.model_copy(update={"trigger": "new words"}))
    assert store.counters()["content_version"] == after_add["content_version"] + 1
    store.set_status(c.id, "deprecated")
    assert store.counters()["status_version"] == base["status_version"] + 1
    assert store.record_incident() == 1 and store.record_incident(4) == 5
    assert store.add(Capsule(skill="s2", trigger="t", procedure=["p"])).born_at_incident == 5


def test_store_path_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("ATLAS_SRE_CAPSULES", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_store_path() == tmp_path / "home/.local/share/atlas-sre/capsules.sqlite"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store_path() == tmp_path / "xdg/atlas-sre/capsules.sqlite"
    monkeypatch.setenv("ATLAS_SRE_CAPSULES", str(tmp_path / "env.sqlite"))
    assert default_store_path() == tmp_path / "env.sqlite"
    assert default_store_path(tmp_path / "arg.sqlite") == tmp_path / "arg.sqlite"
    with CapsuleStore() as s:
        assert s.path == tmp_path / "env.sqlite" and s.path.exists()


def test_sqlite_settings_and_migrations(tmp_path):
    path = tmp_path / "c.sqlite"
    with CapsuleStore(path) as s:
        s.add(Capsule.model_validate(SEED))
        conn = s._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
        assert s.schema_version() == SCHEMA_VERSION
    with CapsuleStore(path) as s:  # reopening applies nothing twice and keeps data
        assert s.schema_version() == SCHEMA_VERSION and s.count() == 1
    raw = sqlite3.connect(path)
    raw.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    raw.commit()
    raw.close()
    with pytest.raises(SchemaTooNewError):
        CapsuleStore(path)


def test_failed_write_rolls_back(store, backend):
    store.upsert_many(CAPSULES[:2])
    if backend == "sqlite":
        store._conn.execute("CREATE TEMP TRIGGER boom BEFORE INSERT ON capsules WHEN NEW.skill = 'boom'"
                            " BEGIN SELECT RAISE(ABORT, 'boom'); END")
    else:  # the same trigger in PL/pgSQL; errors arrive as sqlite3's classes on both backends
        store._conn.execute("CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                            " RAISE unique_violation USING MESSAGE = 'boom'; END $$")
        store._conn.execute("CREATE TRIGGER boom BEFORE INSERT ON capsules FOR EACH ROW"
                            " WHEN (NEW.skill = 'boom') EXECUTE FUNCTION boom()")
    boom = Capsule(skill="boom", trigger="t", procedure=["p"])
    with pytest.raises(sqlite3.IntegrityError, match="boom"):
        store.upsert_many([CAPSULES[2], boom])  # the second row fails after the first was written
    assert store.count() == 2  # the whole batch, not half of it
    store.upsert(CAPSULES[2])  # and the connection is usable afterwards
    assert store.count() == 3

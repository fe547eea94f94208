"""`atlas-sre capsules …` functions on real SQLite files: a round trip and the one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas_sre.capsules import Capsule, CapsuleStatus, CapsuleStore
from atlas_sre.cli import capsules as ccli

SEED = {"skill": "service_mesh_debug", "trigger": "503 errors in Kubernetes",
        "procedure": ["istioctl analyze", "check virtualservice configuration", "verify destination rules",
                      "validate mTLS policies"], "success_rate": 0.88}
CRASH = {"skill": "crashloop_debug", "trigger": "pods restarting in CrashLoopBackOff",
         "procedure": ["describe the pod", "read previous logs"], "evidence": ["OOMKilled"]}


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    return json.loads(capsys.readouterr().out)


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def test_round_trip_seed_import_list_show_search_feedback_export(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    db, seed = str(tmp_path / "caps.sqlite"), tmp_path / "seed.json"
    seed.write_text(json.dumps(SEED))
    assert ccli.import_cli(str(seed), db) == 0
    assert "imported 1 capsule into" in capsys.readouterr().out
    (tmp_path / "more.json").write_text(json.dumps({"capsules": [CRASH]}))
    assert ccli.import_cli(str(tmp_path / "more.json"), db, as_json=True) == 0
    assert len(_json(capsys)["imported"]) == 1  # type: ignore[index]

    assert ccli.list_cli(db) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:5] == ["ID", "SKILL", "STATUS", "USES", "SUCCESS"]
    assert "service_mesh_debug" in table[1] and " 0.88 " in table[1]
    assert "503 errors in Kubernetes" in table[1]
    assert ccli.list_cli(db, as_json=True) == 0
    rows = _json(capsys)
    seed_id = rows[0]["id"]  # type: ignore[index]
    assert [r["skill"] for r in rows] == ["service_mesh_debug", "crashloop_debug"]  # type: ignore[union-attr]

    assert ccli.show_cli(seed_id[:10], db) == 0  # a unique prefix is enough
    shown = capsys.readouterr().out
    assert "Beta(8.8, 1.2)" in shown and "success rate 0.8800" in shown and "validate mTLS policies" in shown

    assert ccli.search_cli("our service returns 503 errors", db, k=3, as_json=True) == 0
    hits = _json(capsys)
    assert hits[0]["id"] == seed_id and "503" in hits[0]["why"]  # type: ignore[index]

    assert ccli.feedback_cli(seed_id, True, db) == 0
    assert "success recorded (uses 1, successes 1, failures 0" in capsys.readouterr().out
    assert ccli.feedback_cli(seed_id, False, db, as_json=True) == 0
    detail = _json(capsys)
    assert (detail["uses"], detail["successes"], detail["failures"]) == (2, 1, 1)  # type: ignore[index]
    assert detail["posterior"]["mean"] == pytest.approx(9.8 / 12, abs=1e-6)  # type: ignore[index]

    out = tmp_path / "export.json"
    assert ccli.export_cli(str(out), db) == 0
    exported = json.loads(out.read_text())
    assert exported[0]["success_rate"] == round(9.8 / 12, 6) and exported[0]["uses"] == 2
    again = str(tmp_path / "again.sqlite")
    assert ccli.import_cli(str(out), again) == 0
    with CapsuleStore(again) as s, CapsuleStore(db) as d:
        assert [c.model_dump(exclude={"updated_at"}) for c in s.list()] == \
            [c.model_dump(exclude={"updated_at"}) for c in d.list()]


def test_export_to_stdout_and_status_filter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "c.sqlite")
    with CapsuleStore(db) as s:
        s.upsert(Capsule.model_validate(SEED))
        s.upsert(Capsule.model_validate({**CRASH, "status": "deprecated"}))
    assert ccli.export_cli(None, db, status="deprecated") == 0
    assert [c["skill"] for c in _json(capsys)] == ["crashloop_debug"]  # type: ignore[union-attr]
    assert ccli.list_cli(db, status="bogus") == 1
    assert "unknown status 'bogus'" in _error(capsys)


def test_store_from_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_SRE_CAPSULES", str(tmp_path / "env.sqlite"))
    (tmp_path / "seed.json").write_text(json.dumps(SEED))
    assert ccli.import_cli(str(tmp_path / "seed.json")) == 0
    assert str(tmp_path / "env.sqlite") in capsys.readouterr().out
    assert ccli.stats_cli(as_json=True) == 0
    assert _json(capsys)["capsules"] == 1  # type: ignore[index]


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "c.sqlite")
    assert ccli.show_cli("cap-0123456789abcdef", db) == 1
    assert "no capsule with id 'cap-0123456789abcdef'" in _error(capsys)
    assert ccli.feedback_cli("cap-nope0", True, db) == 1
    assert "no capsule with id" in _error(capsys)
    bad = tmp_path / "bad.json"
    bad.write_text('[{"skill": "x",]')
    assert ccli.import_cli(str(bad), db) == 1
    assert "is not valid JSON: Expecting property name" in _error(capsys)
    bad.write_text(json.dumps([{"skill": "x", "trigger": "y"}]))
    assert ccli.import_cli(str(bad), db) == 1
    assert "invalid capsule: procedure: Field required" in _error(capsys)
    bad.write_text(json.dumps("just a string"))
    assert ccli.import_cli(str(bad), db) == 1
    assert "expected a JSON list or object" in _error(capsys)
    assert ccli.import_cli(str(tmp_path / "missing.json"), db) == 1
    assert "cannot read" in _error(capsys)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert ccli.list_cli(str(blocker / "c.sqlite")) == 1
    assert f"cannot open capsule store {blocker / 'c.sqlite'}" in _error(capsys)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not sqlite" * 100)
    assert ccli.stats_cli(str(garbage)) == 1
    assert "cannot open capsule store" in _error(capsys)
    assert ccli.export_cli(str(tmp_path), db) == 1  # a directory
    assert "cannot write" in _error(capsys)
    assert ccli.search_cli("   ", db) == 1
    _error(capsys)


def test_malformed_json_message_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"skill": "x",]')
    assert ccli.import_cli(str(bad), str(tmp_path / "c.sqlite")) == 1
    assert "bad.json is not valid JSON" in _error(capsys)


def _harmful(db: str) -> str:
    with CapsuleStore(db) as s:
        c = s.upsert(Capsule.model_validate(CRASH))
        for i in range(12):  # with it: 2/12 successes; without: 10/12
            s.record_use(c.id, i < 2, baseline_success=i < 10)
        return c.id


def test_prune_dry_run_then_apply_with_a_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    db = str(tmp_path / "c.sqlite")
    cid = _harmful(db)
    with CapsuleStore(db) as s:
        s.upsert(Capsule.model_validate(SEED))
    caplog.set_level("INFO")
    assert ccli.prune_cli(db, dry_run=True) == 0
    out = capsys.readouterr().out
    assert f"{cid} (crashloop_debug): active -> pruned [harmful]" in out and "1 decision (dry run" in out
    assert "(dry run)" in caplog.text
    with CapsuleStore(db) as s:
        assert s.get(cid).status is CapsuleStatus.ACTIVE  # type: ignore[union-attr]
    cfg = tmp_path / "prune.yaml"
    cfg.write_text("pruning:\n  min_observations: 20\n")
    assert ccli.prune_cli(db, config=str(cfg), as_json=True) == 0
    assert _json(capsys)["decisions"] == []  # type: ignore[index]
    cfg.write_text(json.dumps({"min_observations": 10, "harmful_margin": 0.1}))
    assert ccli.prune_cli(db, config=str(cfg)) == 0
    assert "1 decision\n" in capsys.readouterr().out
    with CapsuleStore(db) as s:
        assert s.get(cid).status is CapsuleStatus.PRUNED  # type: ignore[union-attr]
    cfg.write_text("min_observation: 3\n")
    assert ccli.prune_cli(db, config=str(cfg)) == 1
    assert "min_observation: Extra inputs are not permitted" in _error(capsys)
    cfg.write_text("min_observations: [\n")
    assert ccli.prune_cli(db, config=str(cfg)) == 1
    assert "is not valid YAML/JSON" in _error(capsys)


def test_stats_counts_by_status_and_top(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "c.sqlite")
    cid = _harmful(db)
    with CapsuleStore(db) as s:
        s.upsert(Capsule.model_validate({**SEED, "status": "provisional"}))
        s.record_incident(7)
    assert ccli.stats_cli(db, as_json=True) == 0
    st = _json(capsys)
    assert st["by_status"] == {"active": 1, "provisional": 1, "deprecated": 0, "pruned": 0}  # type: ignore[index]
    assert (st["uses"], st["successes"], st["failures"]) == (12, 2, 10)  # type: ignore[index]
    assert st["pooled_success"] == round(2 / 12, 6) and st["incidents_seen"] == 7  # type: ignore[index]
    assert st["mean_success_rate"] == round(((3 / 14) + 0.88) / 2, 6)  # type: ignore[index]
    assert st["top"][0]["id"] == cid  # type: ignore[index]
    assert ccli.stats_cli(db) == 0
    assert capsys.readouterr().out.startswith("2 capsules in ")

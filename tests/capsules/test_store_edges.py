"""Capsule store edges (issue 15): a damaged file refuses every command, writes included; a
read-only store can still be read (opened read-only), and writes to it fail in one line."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from atlas_sre.capsules import CapsuleStore
from atlas_sre.cli import capsules as ccli

CAPSULES = [{"skill": f"skill_{i}", "trigger": f"alert number{i} fired " + "x" * 300,
             "procedure": [f"check component{i} " * 10, "read the logs"]} for i in range(119)] + [
    {"skill": "skill_119", "trigger": "pods restarting in CrashLoopBackOff", "procedure": ["describe the pod",
                                                                                           "read previous logs"]}]
ONE = {"skill": "mesh_debug", "trigger": "503 errors", "procedure": ["istioctl analyze"]}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    seed = tmp_path / "caps.json"
    seed.write_text(json.dumps(CAPSULES))
    db = tmp_path / "caps.sqlite"
    assert ccli.import_cli(str(seed), str(db)) == 0
    (tmp_path / "one.json").write_text(json.dumps(ONE))
    capsys.readouterr()
    return db


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def test_a_store_damaged_mid_file_refuses_reads_and_writes(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = CapsuleStore(store).list()[0].id
    size = store.stat().st_size
    with store.open("r+b") as f:  # garbage over pages in the middle of the file
        f.seek(size // 2)
        f.write(b"\xa5" * 8192)
    damaged = _digest(store)
    assert ccli.list_cli(str(store)) == 1
    assert "database disk image is malformed" in _error(capsys)
    assert ccli.import_cli(str(store.parent / "one.json"), str(store)) == 1
    assert "cannot open capsule store" in _error(capsys)
    assert ccli.feedback_cli(first, True, str(store)) == 1
    assert "malformed" in _error(capsys)
    assert ccli.prune_cli(str(store)) == 1
    _error(capsys)
    assert _digest(store) == damaged  # nothing was written into it


@pytest.fixture
def read_only(store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The store file made read-only (chmod 444). Root ignores mode bits, so under root the CLI's
    permission probe is made to honour them, as it would for any other user."""
    CapsuleStore(store).close()
    store.chmod(0o444)
    if os.geteuid() == 0:
        real = os.access

        def access(path: str | os.PathLike[str], mode: int) -> bool:
            if mode & os.W_OK and Path(path) == store:
                return bool(os.stat(path).st_mode & stat.S_IWUSR)
            return real(path, mode)

        monkeypatch.setattr(ccli.os, "access", access)
    return store


def test_a_read_only_store_can_be_listed_shown_and_searched(read_only: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    before = _digest(read_only)
    assert ccli.list_cli(str(read_only), as_json=True) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 120 and {r["skill"] for r in rows} >= {"skill_0", "skill_119"}
    assert ccli.show_cli(rows[0]["id"], str(read_only)) == 0
    assert rows[0]["id"] in capsys.readouterr().out
    assert ccli.search_cli("pods restarting in CrashLoopBackOff", str(read_only), as_json=True) == 0
    assert "skill_119" in capsys.readouterr().out
    assert ccli.stats_cli(str(read_only), as_json=True) == 0
    assert "120" in capsys.readouterr().out
    assert _digest(read_only) == before


def test_writes_to_a_read_only_store_fail_in_one_line(read_only: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _digest(read_only)
    first = CapsuleStore(read_only, read_only=True).list()[0].id
    assert ccli.import_cli(str(read_only.parent / "one.json"), str(read_only)) == 1
    assert _error(capsys) == f"error: cannot write capsule store {read_only}: it is read-only\n"
    assert ccli.feedback_cli(first, False, str(read_only)) == 1
    assert "read-only" in _error(capsys)
    assert ccli.prune_cli(str(read_only)) == 1
    _error(capsys)
    assert _digest(read_only) == before


def test_a_read_only_connection_refuses_writes_itself(read_only: Path) -> None:
    """Even past the CLI's check, the store opened read-only cannot write (SQLite `mode=ro`)."""
    s = CapsuleStore(read_only, read_only=True)
    c = s.list()[0]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        s.set_status(c.id, "deprecated")
    s.close()

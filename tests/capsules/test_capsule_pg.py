"""PostgreSQL capsule store (issue 18): same ranking as SQLite, migrations, moving a library between
the backends with `capsules export/import`, and one-line errors that never show the URL's password.

Runs against the real server `pg_server` (conftest.py) starts; the shared-semantics tests (upsert,
statistics, the 8-writer and SIGKILL tests) are the parametrized store tests beside this file.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from capsule_corpus import CAPSULES, INCIDENTS

from atlas_sre.capsules import Capsule, CapsuleRetriever, CapsuleStore, SchemaTooNewError
from atlas_sre.capsules.pg import PostgresUnavailableError, redact, translate
from atlas_sre.capsules.schema import SCHEMA_VERSION
from atlas_sre.cli import capsules as ccli

psycopg = pytest.importorskip("psycopg", reason="PostgreSQL store tests need psycopg: pip install -e '.[dev]'")


def _filled(location: str | Path) -> CapsuleStore:
    """A store with the corpus, some history and a retired capsule: what a used library looks like."""
    store = CapsuleStore(location)
    store.upsert_many(CAPSULES)
    for i, c in enumerate(CAPSULES[:4]):
        store.record_use(c.id, i % 2 == 0, tokens_delta=-10.0 * i, time_delta=0.25 * i, baseline_success=False)
    store.set_status(CAPSULES[5].id, "deprecated")
    store.record_incident(7)
    return store


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def test_retrieval_ranks_identically_on_both_backends(tmp_path: Path, pg_url: Callable[[], str]) -> None:
    with _filled(tmp_path / "c.sqlite") as lite, _filled(pg_url()) as pg:
        assert [c.model_dump(exclude={"updated_at", "last_used_at"}) for c in lite.list()] == \
            [c.model_dump(exclude={"updated_at", "last_used_at"}) for c in pg.list()]
        for incident, _ in [*INCIDENTS, ("pods 503 memory dns image", None)]:
            a = CapsuleRetriever(lite).retrieve(incident, top_k=10, min_score=0.0)
            b = CapsuleRetriever(pg).retrieve(incident, top_k=10, min_score=0.0)
            assert [(h.capsule.id, h.score, h.why) for h in a] == [(h.capsule.id, h.score, h.why) for h in b]


def test_migrates_on_open_and_refuses_a_newer_schema(pg_url: Callable[[], str],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    url = pg_url()
    with psycopg.connect(url, autocommit=True) as raw:  # a database holding schema 0: the table, no steps
        raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        raw.execute("INSERT INTO schema_version VALUES (0)")
    with CapsuleStore(url) as s:
        assert s.schema_version() == SCHEMA_VERSION and s.counters()["content_version"] == 0
        s.add(Capsule(skill="s", trigger="t", procedure=["p"]))
    with CapsuleStore(url) as s:  # reopening applies nothing twice and keeps data
        assert s.schema_version() == SCHEMA_VERSION and s.count() == 1
        assert s._conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1
    with psycopg.connect(url, autocommit=True) as raw:
        raw.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    for read_only in (False, True):
        with pytest.raises(SchemaTooNewError, match=f"schema {SCHEMA_VERSION + 1} > supported"):
            CapsuleStore(url, read_only=read_only)
    assert ccli.list_cli(url) == 1
    assert f"schema {SCHEMA_VERSION + 1} > supported {SCHEMA_VERSION}" in _error(capsys)


def test_export_and_import_move_a_library_both_ways(tmp_path: Path, pg_url: Callable[[], str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "team.sqlite"
    with _filled(src) as s:
        want = [c.model_dump() for c in s.list()]
    url, back = pg_url(), tmp_path / "back.sqlite"
    assert ccli.export_cli(url, str(src)) == 0  # SQLite → PostgreSQL: `capsules export URL`
    assert f"copied {len(CAPSULES)} capsules" in capsys.readouterr().out
    with CapsuleStore(url) as pg:
        assert [c.model_dump() for c in pg.list()] == want  # every field, history and timestamps included
        assert pg.counters()["incidents_seen"] == 7
    assert ccli.import_cli(url, str(back), as_json=True) == 0  # PostgreSQL → SQLite: `capsules import URL`
    assert json.loads(capsys.readouterr().out)["copied"] == len(CAPSULES)
    with CapsuleStore(back) as lite:
        assert [c.model_dump() for c in lite.list()] == want and lite.counters()["incidents_seen"] == 7
    assert ccli.export_cli(str(tmp_path / "x.json"), url) == 0  # JSON export still works from PostgreSQL
    assert len(json.loads((tmp_path / "x.json").read_text())) == len(CAPSULES)
    capsys.readouterr()
    assert ccli.search_cli("pods restarting in CrashLoopBackOff", url, as_json=True) == 0
    assert json.loads(capsys.readouterr().out)[0]["skill"] == "crashloop_config"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server_is_one_line_without_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://team:s3cret-pw@127.0.0.1:{_free_port()}/capsules"
    with pytest.raises(PostgresUnavailableError) as info:
        CapsuleStore(url)
    assert "s3cret-pw" not in str(info.value) and "cannot reach PostgreSQL" in str(info.value)
    assert ccli.stats_cli(url) == 1
    err = _error(capsys)
    assert "cannot reach PostgreSQL at postgresql://team:***@127.0.0.1" in err and "s3cret-pw" not in err


def test_missing_psycopg_names_the_install_command(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails, as without the extra
    assert ccli.list_cli("postgresql://localhost/capsules") == 1
    assert _error(capsys) == ("error: PostgreSQL capsule stores need psycopg: "
                              "pip install 'atlas-sre[postgres]'\n")


def test_read_only_session_and_sql_translation(pg_url: Callable[[], str]) -> None:
    url = pg_url()
    with CapsuleStore(url) as s:
        s.add(Capsule(skill="s", trigger="t", procedure=["p"]))
    with CapsuleStore(url, read_only=True) as ro:
        c = ro.list()[0]
        with pytest.raises(Exception, match="readonly"):
            ro.set_status(c.id, "deprecated")
    assert translate("SELECT * FROM t WHERE a = ? AND b = :name AND c LIKE '50%?:x'") == \
        "SELECT * FROM t WHERE a = %s AND b = %(name)s AND c LIKE '50%%?:x'"
    assert redact("postgresql://u:pw@h:5433/db?sslmode=require") == "postgresql://u:***@h:5433/db?sslmode=require"


def test_bench_capsules_from_a_postgresql_library(tmp_path: Path, pg_url: Callable[[], str]) -> None:
    """`bench --capsules-from postgresql://…` seeds the run's stores from the team library, read only."""
    from atlas_sre.bench.config import BenchConfig
    from atlas_sre.bench.runner import run_bench
    from atlas_sre.bench.synthetic import SyntheticEpisodeRunner
    from atlas_sre.scenarios.catalog import BUILTIN_DIRS

    def config(**kw: object) -> BenchConfig:
        base: dict[str, object] = {"scenarios": [str(BUILTIN_DIRS[0])], "modes": "atlas+capsules",
                                   "iterations": 1, "repeats": 1, "seed": 7}
        return BenchConfig(**{**base, **kw})

    first = run_bench(config(iterations=2), tmp_path / "learn", episode_runner=SyntheticEpisodeRunner(),
                      progress=False)
    assert first.summary["capsule_stores"]["acap"]["capsules"] >= 1
    url = pg_url()
    assert ccli.export_cli(url, str(tmp_path / "learn" / "capsules" / "acap.sqlite")) == 0
    with CapsuleStore(url) as team:
        before = [c.model_dump() for c in team.list()]
    seeded = run_bench(config(capsules_from=url), tmp_path / "seeded", episode_runner=SyntheticEpisodeRunner(),
                       progress=False)
    assert any(r.capsules_used for r in seeded.records)  # iteration 0 read the library
    with CapsuleStore(url) as team:
        assert [c.model_dump() for c in team.list()] == before  # never written
    with pytest.raises(ValueError, match="PGPASSWORD"):
        run_bench(config(capsules_from="postgresql://team:pw@127.0.0.1/x"), tmp_path / "pw",
                  episode_runner=SyntheticEpisodeRunner(), progress=False)


def test_investigate_learns_into_and_applies_a_postgresql_store(pg_url: Callable[[], str]) -> None:
    """`investigate --capsules postgresql://… --learn` grows the team library; the next incident of
    the same fault type on another application applies what was learnt."""
    import io

    from atlas_sre.bench.plan import scenario_meta
    from atlas_sre.cli.investigate import investigate_cli
    from atlas_sre.scenarios.catalog import builtin_paths

    fault = "crashing-kubernetes-workload-init-container"
    metas = [m for m in map(scenario_meta, builtin_paths()) if m.faults == [fault]]
    first = metas[0]
    second = next(m for m in metas[1:] if m.name.split("-")[0] != first.name.split("-")[0])
    url = pg_url()

    def call(**kwargs: object) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = investigate_cli(incident="", capsules=url, out=out, err=err, **kwargs)  # type: ignore[arg-type]
        return code, out.getvalue(), err.getvalue()

    code, out, err = call(scenario=first.name, learn=True, as_json=True)
    assert code == 0, err
    result = json.loads(out)
    assert result["learn"]["correct"] and result["capsule_store"] == redact(url)
    [learnt] = [c["id"] for c in result["learn"]["learnt"]]
    with CapsuleStore(url) as s:
        assert [c.id for c in s.list()] == [learnt] and s.counters()["incidents_seen"] == 1
    code, out, err = call(scenario=second.name)
    assert code == 0, err
    assert f"`{learnt}`" in out and "**Grade:** correct" in out

"""Capsule-store fixtures: one real PostgreSQL server per test session, a fresh database per test.

`pg_server` starts PostgreSQL with `pgserver` (a registry package shipping the server binaries) in
a temporary folder, with fsync off (a throwaway server: durability across power loss is not what
these tests measure; crash recovery of a killed client is). `store_at(name)` gives a store location
for the test's backend: a file in `tmp_path` for `sqlite`, a new database's URL for `postgres`
(CREATE DATABASE takes tens of milliseconds), so tests written for one backend run on both by
asking for `store_at` instead of `tmp_path / "x.sqlite"`. Missing psycopg/pgserver skips the
postgres cases with the reason; a server that fails to start is an error, never a silent skip.
"""

from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A running PostgreSQL server (pgserver), stopped and deleted at the end of the session."""
    pgserver = pytest.importorskip("pgserver", reason="postgres tests need pgserver: pip install -e '.[dev]'")
    pytest.importorskip("psycopg", reason="postgres tests need psycopg: pip install 'atlas-sre[postgres]'")
    import psycopg
    from pgserver._commands import pg_ctl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset
        # Not under pytest's basetemp: that tree is root-only (0700), and as root pgserver runs the
        # server as its own `pgserver` user, which must reach the folder to stop the server.
        root = Path(tempfile.mkdtemp(prefix="atlas-sre-pg-"))
        root.chmod(0o755)
        server = pgserver.get_server(root / "data", cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET fsync = off")
        conn.execute("ALTER SYSTEM SET synchronous_commit = off")
        conn.execute("SELECT pg_reload_conf()")
    yield server
    # An immediate stop (no shutdown checkpoint: the data is thrown away), then the folder goes.
    # pgserver's own cleanup would wait seconds on the stopped process, so it is unregistered.
    pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user)
    atexit.unregister(server._cleanup)
    shutil.rmtree(root, ignore_errors=True)


_numbers = itertools.count()


@pytest.fixture
def pg_url(pg_server: Any) -> Callable[[], str]:
    """A factory of URLs of new, empty databases on the session's server."""
    import psycopg

    def new() -> str:
        name = f"caps_{next(_numbers)}"
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} STRATEGY FILE_COPY")
        return str(pg_server.get_uri(name))
    return new


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_at(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], str]:
    """`store_at("c.sqlite")`: where a store of this test's backend lives (the same name, the same store)."""
    made: dict[str, str] = {}

    def location(name: str) -> str:
        if name not in made:
            if backend == "sqlite":
                made[name] = str(tmp_path / name)
            else:
                made[name] = request.getfixturevalue("pg_url")()
        return made[name]
    return location

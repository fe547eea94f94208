"""Suite-wide fixtures.

`atlas-sre investigate` now reads (and with `--learn` writes) a per-user capsule store by
default. No test may touch the real one in the user's home, so every test gets
`$ATLAS_SRE_CAPSULES` pointing at a path in its own temporary folder (not created: "no store yet").
A test that needs the XDG fallback deletes the variable itself (monkeypatch.delenv).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ARTEFACTS = Path(os.environ.get("ATLAS_SRE_TEST_ARTEFACTS")
                 or Path(__file__).resolve().parent.parent / "test-artefacts")
"""Where tests leave files for people to look at after the run (screenshots): kept, unlike tmp_path."""


@pytest.fixture(autouse=True)
def _private_capsule_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path_factory.mktemp("capsule-home") / "capsules.sqlite"
    monkeypatch.setenv("ATLAS_SRE_CAPSULES", str(path))
    return path


@pytest.fixture
def artefacts() -> Path:
    """The suite's artefacts folder (`$ATLAS_SRE_TEST_ARTEFACTS`, default `test-artefacts/`), created."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS

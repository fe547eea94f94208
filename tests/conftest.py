"""Suite-wide fixtures.

`atlas-sre investigate` now reads (and with `--learn` writes) a per-user capsule store by
default. No test may touch the real one in the user's home, so every test gets
`$ATLAS_SRE_CAPSULES` pointing at a path in its own temporary folder (not created: "no store yet").
A test that needs the XDG fallback deletes the variable itself (monkeypatch.delenv).
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_capsule_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path_factory.mktemp("capsule-home") / "capsules.sqlite"
    monkeypatch.setenv("ATLAS_SRE_CAPSULES", str(path))
    return path

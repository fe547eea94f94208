"""JSON import/export of capsules, independent of any store (the CLI and tests use it directly).

Accepted on import:
- a list of capsule objects (what `dump_capsules` writes);
- one capsule object, e.g. the seed's ``{"skill", "trigger", "procedure", "success_rate"}``;
- ``{"capsules": [...]}`` (room for a future envelope with format metadata).
Unknown keys are ignored but logged, so a typo such as ``procedures`` is visible.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from atlas_sre.capsules.model import Capsule

log = logging.getLogger(__name__)

_DERIVED = {"success_rate"}


def load_capsules(data: str | bytes | Path | list[Any] | dict[str, Any]) -> list[Capsule]:
    """Parse capsules from JSON text, a file `Path`, or already-decoded JSON."""
    if isinstance(data, Path):
        data = data.read_text(encoding="utf-8")
    if isinstance(data, (str, bytes)):
        data = json.loads(data)
    if isinstance(data, dict):
        data = data["capsules"] if isinstance(data.get("capsules"), list) else [data]
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON list or object of capsules, got {type(data).__name__}")
    known = set(Capsule.model_fields) | _DERIVED
    capsules = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(f"capsule #{i} is a {type(item).__name__}, expected an object")
        unknown = sorted(set(item) - known)
        if unknown:
            log.warning("capsule #%d (%s): ignoring unknown keys %s", i, item.get("skill"), unknown)
        capsules.append(Capsule.model_validate(item))
    return capsules


def dump_capsules(capsules: list[Capsule], indent: int | None = 2) -> str:
    """JSON list; includes the derived ``success_rate`` so seed-format readers keep working."""
    return json.dumps([c.model_dump(mode="json") for c in capsules], indent=indent, ensure_ascii=False)

"""Kubernetes quantities, only as far as faults need them (memory in MiB, CPU in millicores)."""

from __future__ import annotations

_MEM = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024, "K": 1000 / 1048576, "M": 1e6 / 1048576,
        "G": 1e9 / 1048576}


def mebibytes(q: object) -> float:
    """`256Mi` → 256.0, `1Gi` → 1024.0, bytes → MiB; 0.0 for None."""
    if q is None:
        return 0.0
    text = str(q)
    for suffix, factor in _MEM.items():
        if text.endswith(suffix) and text[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(text[: -len(suffix)]) * factor
    return float(text) / 1048576


def millicores(q: object) -> float:
    """`500m` → 500.0, `2` → 2000.0; 0.0 for None."""
    if q is None:
        return 0.0
    text = str(q)
    return float(text[:-1]) if text.endswith("m") else float(text) * 1000

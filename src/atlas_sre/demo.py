"""`make demo`: the main job on the embedded default (no network, no API key)."""

from __future__ import annotations

from atlas_sre.scenarios.catalog import builtin_paths
from atlas_sre.scenarios.loader import load_path


def main() -> int:
    """List the built-in incidents (the simulator's serving demo replaces this as it lands)."""
    for p in builtin_paths():
        s = load_path(p)
        print(f"{s.metadata.name:28} {s.spec.incident.summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

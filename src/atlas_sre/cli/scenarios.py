"""`atlas-sre scenarios ...`: list, validate and generate scenario files (logic in the scenarios room)."""

from __future__ import annotations

import json

import typer

scenarios_app = typer.Typer(no_args_is_help=True, help="Scenario files: list, validate, generate.")


def fail(message: str, code: int = 2) -> None:
    """Print one clear line and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def checked_paths(paths: list[str]) -> list[str]:
    """The arguments, refusing an empty one (`Path("")` is the current directory, never what was meant)."""
    for p in paths:
        if not p.strip():
            fail("empty path argument (name a file, a folder or a built-in scenario)")
    return paths


@scenarios_app.command("list")
def scenarios_list(
    paths: list[str] | None = typer.Argument(None, help="Files or folders (default: the built-ins)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON array: name, app, faults, labels."),
) -> None:
    """List scenarios with their app, fault ids and labels."""
    from atlas_sre.scenarios.catalog import builtin_paths, expand_paths, summary
    from atlas_sre.scenarios.loader import ScenarioError, load_path

    try:
        files = list(expand_paths(checked_paths(paths))) if paths else builtin_paths()
    except (ScenarioError, OSError) as exc:
        fail(str(exc))
    rows = []
    for f in files:
        try:
            rows.append(summary(load_path(f)))
        except ScenarioError as exc:
            fail(str(exc))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("NAME", "APP", "FAULTS", "DOMAIN", "COMPLEXITY", box=None, pad_edge=False)
    for r in rows:
        lab = r["labels"]
        table.add_row(r["name"], r["app"] or "-", ",".join(r["faults"]) or "-", lab.get("domain", "-"),
                      lab.get("complexity", "-"))
    Console(width=200).print(table)
    typer.echo(f"{len(rows)} scenarios", err=True)


@scenarios_app.command("validate")
def scenarios_validate(
    paths: list[str] = typer.Argument(..., help="Files, folders or built-in names."),
) -> None:
    """Check scenario files; prints `file:line: path: message` for each broken one (exit 2), exactly
    the checks `sim serve` relies on: a file that passes here serves."""
    from atlas_sre.scenarios.catalog import expand_paths
    from atlas_sre.scenarios.loader import ScenarioError, load_path

    bad = 0
    total = 0
    try:
        files = list(expand_paths(checked_paths(paths)))
    except (ScenarioError, OSError) as exc:
        fail(str(exc))
    if not files:
        fail(f"no scenario files (*.yaml) in {', '.join(paths)}")
    for f in files:
        total += 1
        try:
            load_path(f)
        except ScenarioError as exc:
            bad += 1
            typer.echo(str(exc), err=True)
    typer.echo(f"{total - bad}/{total} valid")
    if bad:
        raise typer.Exit(2)


@scenarios_app.command("generate")
def scenarios_generate(
    count: int = typer.Option(..., "--count", help="How many scenarios to write."),
    seed: int = typer.Option(..., "--seed", help="Same seed, byte-identical files."),
    app_name: str | None = typer.Option(None, "--app", help="Only this built-in app (bookinfo, online-shop, ...)."),
    fault: str | None = typer.Option(None, "--fault", help="Only this fault id from the catalogue."),
    scale: int | None = typer.Option(None, "--scale", help="Replicate workloads to about N pods (benchmarks)."),
    out: str = typer.Option(..., "--out", help="Output folder."),
) -> None:
    """Generate scenarios: random app x target x arguments, red herrings, controls, two-fault incidents."""
    import os
    from pathlib import Path

    from atlas_sre.scenarios.generator.generate import generate_cli

    if count < 1:
        fail(f"--count must be at least 1, got {count}")
    try:  # before minutes of drawing, not after
        Path(out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create --out {out}: {exc.strerror or exc}")
    if not os.access(out, os.W_OK):
        fail(f"cannot write to --out {out}")

    raise typer.Exit(generate_cli(count, seed, app_name, fault, scale, out))

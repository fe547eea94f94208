"""`atlas-sre scenarios ...`: list, validate and generate scenario files (logic in the scenarios room)."""

from __future__ import annotations

import json

import typer

scenarios_app = typer.Typer(no_args_is_help=True, help="Scenario files: list, validate, generate.")


def fail(message: str, code: int = 2) -> None:
    """Print one clear line and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@scenarios_app.command("list")
def scenarios_list(
    paths: list[str] | None = typer.Argument(None, help="Files or folders (default: the built-ins)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON array: name, app, faults, labels."),
) -> None:
    """List scenarios with their app, fault ids and labels."""
    from atlas_sre.scenarios.catalog import builtin_paths, expand_paths, summary
    from atlas_sre.scenarios.loader import ScenarioError, load_path

    files = list(expand_paths(paths)) if paths else builtin_paths()
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
    """Check scenario files; prints `file:line: path: message` for each broken one."""
    from atlas_sre.scenarios.catalog import expand_paths
    from atlas_sre.scenarios.loader import ScenarioError, load_path

    bad = 0
    total = 0
    try:
        files = list(expand_paths(paths))
    except ScenarioError as exc:
        fail(str(exc))
    for f in files:
        total += 1
        try:
            load_path(f)
        except ScenarioError as exc:
            bad += 1
            typer.echo(str(exc), err=True)
    typer.echo(f"{total - bad}/{total} valid")
    if bad:
        raise typer.Exit(1)


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
    from atlas_sre.scenarios.generator.generate import generate_cli

    raise typer.Exit(generate_cli(count, seed, app_name, fault, scale, out))

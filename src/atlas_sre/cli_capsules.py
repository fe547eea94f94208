"""`atlas-sre capsules ...`: the Skill Capsule store from the command line (logic in capsules/cli.py)."""

from __future__ import annotations

import typer

capsules_app = typer.Typer(no_args_is_help=True, help="Skill Capsules: learned investigation procedures.")
STORE = typer.Option(None, "--store", help="Capsule store (default $ATLAS_SRE_CAPSULES, else "
                     "~/.local/share/atlas-sre/capsules.sqlite).")
JSON = typer.Option(False, "--json", help="JSON output.")


@capsules_app.command("list")
def capsules_list(status: str | None = typer.Option(None, "--status", help="active, provisional, deprecated, pruned."),
                  as_json: bool = JSON, store: str | None = STORE) -> None:
    """Capsules with status, uses, success rate and trigger."""
    from atlas_sre.capsules.cli import list_cli

    raise typer.Exit(list_cli(store, status=status, as_json=as_json))


@capsules_app.command("show")
def capsules_show(capsule_id: str = typer.Argument(..., metavar="ID"), as_json: bool = JSON,
                  store: str | None = STORE) -> None:
    """Everything about one capsule, with its Beta posterior and token/time deltas."""
    from atlas_sre.capsules.cli import show_cli

    raise typer.Exit(show_cli(capsule_id, store, as_json=as_json))


@capsules_app.command("search")
def capsules_search(text: str = typer.Argument(..., help="Incident text."),
                    k: int = typer.Option(5, "-k", "--top", min=1, help="How many."),
                    as_json: bool = JSON, store: str | None = STORE) -> None:
    """Capsules matching an incident, with scores and why."""
    from atlas_sre.capsules.cli import search_cli

    raise typer.Exit(search_cli(text, store, k=k, as_json=as_json))


@capsules_app.command("import")
def capsules_import(path: str = typer.Argument(..., metavar="FILE"), as_json: bool = JSON,
                    store: str | None = STORE) -> None:
    """Import capsules from JSON (the seed's single-capsule format is accepted)."""
    from atlas_sre.capsules.cli import import_cli

    raise typer.Exit(import_cli(path, store, as_json=as_json))


@capsules_app.command("export")
def capsules_export(path: str | None = typer.Argument(None, metavar="[FILE]"),
                    status: str | None = typer.Option(None, "--status", help="Only this status."),
                    store: str | None = STORE) -> None:
    """Export capsules as JSON (stdout without FILE)."""
    from atlas_sre.capsules.cli import export_cli

    raise typer.Exit(export_cli(path, store, status=status))


@capsules_app.command("feedback")
def capsules_feedback(capsule_id: str = typer.Argument(..., metavar="ID"),
                      success: bool = typer.Option(..., "--success/--failure", help="Did it help?"),
                      as_json: bool = JSON, store: str | None = STORE) -> None:
    """Mark the outcome of a capsule's use on a real cluster (no ground truth there)."""
    from atlas_sre.capsules.cli import feedback_cli

    raise typer.Exit(feedback_cli(capsule_id, success, store, as_json=as_json))


@capsules_app.command("prune")
def capsules_prune(dry_run: bool = typer.Option(False, "--dry-run", help="Show decisions, change nothing."),
                   config: str | None = typer.Option(None, "--config", help="Pruning config (YAML or JSON)."),
                   baseline_rate: float | None = typer.Option(None, "--baseline-rate", min=0.0, max=1.0,
                                                              help="Success rate without capsules."),
                   as_json: bool = JSON, store: str | None = STORE) -> None:
    """Demote or prune capsules that are harmful, neutral or too specific."""
    from atlas_sre.capsules.cli import prune_cli

    raise typer.Exit(prune_cli(store, config=config, dry_run=dry_run, baseline_rate=baseline_rate, as_json=as_json))


@capsules_app.command("stats")
def capsules_stats(top: int = typer.Option(5, "--top", min=0, help="How many top capsules."),
                   as_json: bool = JSON, store: str | None = STORE) -> None:
    """Counts by status, mean success rate, top capsules."""
    from atlas_sre.capsules.cli import stats_cli

    raise typer.Exit(stats_cli(store, as_json=as_json, top=top))

"""The root `atlas-sre` Typer app: `version`, then each command group's module added in help order.

Why one place: the order commands are registered here is the order `atlas-sre --help` lists them,
and every group module stays importable on its own (tests call their functions directly). Group
modules import only Typer and the standard library at the top; each command imports the rooms it
needs inside its body, so `atlas-sre --help` and `sim serve` start without loading the protocol.
"""

from __future__ import annotations

import sys

import typer

from atlas_sre import __version__
from atlas_sre.cli.analyze import analyze
from atlas_sre.cli.bench import bench, report
from atlas_sre.cli.capsules import capsules_app
from atlas_sre.cli.demo import demo
from atlas_sre.cli.exec import exec_
from atlas_sre.cli.export import export_app
from atlas_sre.cli.investigate import investigate
from atlas_sre.cli.mcp import mcp
from atlas_sre.cli.models import models_app
from atlas_sre.cli.scenarios import scenarios_app
from atlas_sre.cli.sim import sim_app
from atlas_sre.cli.train import train_app
from atlas_sre.cli.view import view

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Teacher-coached Kubernetes RCA.")


@app.command()
def version() -> None:
    """Print the package version."""
    typer.echo(__version__)


app.command("exec")(exec_)
app.command()(analyze)
app.command()(investigate)
app.command()(mcp)
app.command()(bench)
app.command()(report)
app.command()(demo)
app.command()(view)
app.add_typer(sim_app, name="sim")
app.add_typer(scenarios_app, name="scenarios")
app.add_typer(models_app, name="models")
app.add_typer(capsules_app, name="capsules")
app.add_typer(export_app, name="export")
app.add_typer(train_app, name="train")


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)

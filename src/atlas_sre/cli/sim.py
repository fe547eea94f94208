"""`atlas-sre sim ...`: the simulated cluster (`sim serve`; logic in `scenarios/serving.py`)."""

from __future__ import annotations

import typer

sim_app = typer.Typer(no_args_is_help=True, help="The simulated cluster.")


@sim_app.command("serve")
def sim_serve(
    scenario: str = typer.Argument(..., help="Scenario file, folder, or built-in name."),
    port: int = typer.Option(0, "--port", help="TCP port on 127.0.0.1 (0: any free port)."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Where to write the kubeconfig."),
    now: str | None = typer.Option(
        None, "--now", help="Anchor the scenario's observation time to this RFC 3339 instant (reproducible "
        "bytes). Default: the wall clock at start, so ages read true."),
) -> None:
    """Serve SCENARIO as a read-only Kubernetes API until Ctrl-C; prints `export KUBECONFIG=...`."""
    if not 0 <= port <= 65535:
        typer.echo(f"error: --port must be from 0 to 65535 (0: any free port), got {port}", err=True)
        raise typer.Exit(2)
    from atlas_sre.scenarios.serving import serve_forever_cli

    raise typer.Exit(serve_forever_cli(scenario, port, kubeconfig, now))

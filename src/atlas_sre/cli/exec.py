"""`atlas-sre exec LINE`: one read-only command line, run exactly as an agent's would be."""

from __future__ import annotations

import typer


def exec_(
    line: str = typer.Argument(..., help='One command line, quoted: "kubectl get pods -n shop | grep -v Running".'),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Kubeconfig (default: $KUBECONFIG)."),
    context: str | None = typer.Option(None, "--context", help="Kubeconfig context."),
    namespace: str | None = typer.Option(None, "-n", "--namespace", help="Default namespace."),
) -> None:
    """Run one read-only command exactly as an agent would; exit 3 when the policy refuses it."""
    from atlas_sre.commands import CommandConfig, exec_command_line
    from atlas_sre.environments.tools import default_tools

    config = CommandConfig(kubeconfig=kubeconfig, context=context, namespace=namespace)
    code, text = exec_command_line(line, config, tools=default_tools())
    typer.echo(text, nl=not text.endswith("\n"))
    raise typer.Exit(code)

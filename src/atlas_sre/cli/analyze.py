"""`atlas-sre analyze`: the analyzers room over any cluster's objects (logic in `analyzers/tool.py`)."""

from __future__ import annotations

import typer


def analyze(
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Kubeconfig (default: $KUBECONFIG)."),
    context: str | None = typer.Option(None, "--context", help="Kubeconfig context."),
    namespace: str | None = typer.Option(None, "-n", "--namespace", help="Only findings in this namespace."),
    as_json: bool = typer.Option(False, "--json", help="JSON findings."),
) -> None:
    """istioctl-analyze and k8sgpt-style checks over any cluster's objects (exit 79 on errors)."""
    from atlas_sre.analyzers.tool import analyze_cli

    raise typer.Exit(analyze_cli(kubeconfig, context, namespace, as_json))

"""`make demo`: the main job on the embedded default (simulator + reference agents, offline).

Serves a built-in incident as a real read-only Kubernetes API and shows what an agent sees
through the read-only command layer, then (as the later rooms land) investigates it.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.rule import Rule

from atlas_sre.cluster import CommandConfig, CommandRunner
from atlas_sre.scenarios.catalog import load
from atlas_sre.sim.serve import SimServer, build_state

SESSION = [
    "kubectl get pods -n shop",
    "kubectl get events -n shop --field-selector type=Warning",
    "kubectl describe deploy checkout -n shop",
    "kubectl logs -n shop deploy/checkout --previous --tail=5",
    "kubectl get endpoints -n shop",
    "kubectl top pods -n shop",
    "kubectl delete pod -n shop --all",
]


def kubectl_session(console: Console, scenario_name: str = "crashloop-missing-env") -> None:
    """Serve one scenario and run a short read-only kubectl session against it."""
    scenario = load(scenario_name)
    state, namespace = build_state(scenario_name, None)
    console.print(Rule(f"[bold]{scenario_name}[/]: {scenario.spec.incident.summary}"))
    with SimServer(state, namespace=namespace) as server:
        console.print(f"[dim]export KUBECONFIG={server.kubeconfig_path}[/]")
        with CommandRunner(CommandConfig(kubeconfig=server.kubeconfig_path)) as runner:
            for line in SESSION:
                result = runner.run(line)
                console.print(f"[bold green]$ {line}[/]  [dim]({result.duration_s:.2f}s, exit {result.exit_code})[/]")
                console.print(result.observation.rstrip(), markup=False, highlight=False)


def main() -> int:
    console = Console(width=160)
    kubectl_session(console)
    return 0


if __name__ == "__main__":
    sys.exit(main())

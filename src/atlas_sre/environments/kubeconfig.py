"""A cluster reached through a kubeconfig (a real one, or one served elsewhere).

Commands go through the command layer's `CommandRunner` (policy, timeout, redaction, truncation),
with the tools the builder passed in (`analyze`, ...). The scenario environment is this same
environment pointed at a simulator it serves itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from atlas_sre.commands import CommandConfig, CommandRunner, Tool
from atlas_sre.environments.base import ClusterUnavailable, Observation
from atlas_sre.grading.incident import Incident


class KubeconfigEnvironment:
    """`execute` runs one agent command line through `runner`; `close` releases its working directory."""

    def __init__(self, runner: CommandRunner, namespace: str | None = None, incident: Incident | None = None) -> None:
        self.runner = runner
        self.namespace = namespace
        self.incident = incident

    def execute(self, command: str) -> Observation:
        return self.runner.run(command)

    def close(self) -> None:
        self.runner.close()

    def __enter__(self) -> KubeconfigEnvironment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_kubeconfig(kubeconfig: str | Path | None, context: str | None = None, namespace: str | None = None,
                    *, timeout_s: float = 30.0, check: bool = True,
                    tools: Mapping[str, Tool] | None = None) -> KubeconfigEnvironment:
    """An environment on a real (or separately served) cluster; `check` fails fast when it cannot be reached."""
    path = Path(kubeconfig).expanduser() if kubeconfig else None
    if path is not None and not path.is_file():
        raise ClusterUnavailable(f"kubeconfig {path} does not exist")
    runner = CommandRunner(CommandConfig(kubeconfig=path, context=context, namespace=namespace, timeout_s=timeout_s),
                           tools=tools)
    if check:
        probe = runner.run("kubectl get namespaces")
        if probe.exit_code != 0:
            runner.close()
            first = next((ln for ln in probe.observation.splitlines() if ln.strip()), "no answer")
            raise ClusterUnavailable(f"cannot reach the cluster ({path or 'default kubeconfig'}): {first.strip()}")
    return KubeconfigEnvironment(runner, namespace)

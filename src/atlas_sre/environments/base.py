"""The environment interface: where an investigation's commands run, and what comes back.

mini-swe-agent's shape: an environment is anything with `execute(command) -> Observation`. The
investigation loop sees nothing else of a cluster, so a served scenario, a real cluster through
a kubeconfig, or a test double are interchangeable. The `Observation` is the command layer's own
`CommandResult` (output text, exit code, refused, truncated, duration, ...), not a copy of it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from atlas_sre.commands import CommandResult
from atlas_sre.grading.incident import Incident

Observation = CommandResult
"""What one command gave the agent: `observation` text, `exit_code`, `refused`, `truncated`, `duration_s`."""


class ClusterUnavailable(RuntimeError):
    """The cluster cannot be reached or the scenario cannot be served; the message is one line."""


@runtime_checkable
class Environment(Protocol):
    """A cluster an agent investigates through read-only command lines.

    `incident` is what the environment itself reports (a scenario's summary and alerts; None for
    a plain cluster, where the operator describes the incident). `namespace` is the default `-n`.
    """

    namespace: str | None
    incident: Incident | None

    def execute(self, command: str) -> Observation: ...

    def close(self) -> None: ...

    def __enter__(self) -> Environment: ...

    def __exit__(self, *exc: object) -> None: ...

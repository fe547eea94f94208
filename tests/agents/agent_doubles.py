"""Shared doubles for the agents tests: a fake environment that answers from a table (imported by name)."""

from __future__ import annotations

from dataclasses import dataclass, field

from atlas_sre.commands import CommandResult, CommandRunner

DIAGNOSIS = ('```json\n{"entities": [{"name": "shop/DestinationRule/reviews", "contributing_factor": true, '
             '"evidence": "no subset v3"}], "propagations": [], "category": "Misconfiguration", "summary": "s"}\n```')


@dataclass
class FakeEnvironment:
    """Answers each command from `outputs` (default: a two-line table); refuses what the real policy refuses."""

    outputs: dict[str, str] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    namespace: str | None = None
    incident: None = None

    def execute(self, line: str) -> CommandResult:
        decision = CommandRunner().check(line)
        if not hasattr(decision, "source"):  # a Refusal
            return CommandResult(line=line, exit_code=3, duration_s=0.0, refused=True, reason=decision.reason,
                                 observation=f"Refused by the read-only command policy: {decision.message}\n")
        self.ran.append(line)
        text = self.outputs.get(line, "NAME   READY\nweb-1  1/1\n")
        return CommandResult(line=line, exit_code=0, duration_s=0.01, stdout_bytes=len(text), observation=text)

    def close(self) -> None:
        pass

    def __enter__(self) -> FakeEnvironment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bash(command: str) -> str:
    return f"```bash\n{command}\n```"

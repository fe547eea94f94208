"""Control flow of the investigation loop, as exceptions that carry the messages they add.

Why exceptions (as in mini-swe-agent): a step can end in several non-normal ways deep inside
parsing or execution (the answer is a diagnosis, the reply is garbled, the command is refused, a
budget is spent). Raising one exception that carries the text to feed back keeps the loop a flat
`try: step() except InterruptAgentFlow as e: messages += e.messages`, and every way out is a type.
"""

from __future__ import annotations

from typing import Any


class InterruptAgentFlow(Exception):
    """Base class: `messages` are user-role texts appended to the trajectory when caught."""

    outcome: str = "interrupted"

    def __init__(self, *messages: str) -> None:
        super().__init__(*messages)
        self.messages: tuple[str, ...] = messages

    def __str__(self) -> str:
        return "\n".join(self.messages)


class Submitted(InterruptAgentFlow):
    """The agent submitted its final Diagnosis; the run ends successfully."""

    outcome = "submitted"

    def __init__(self, diagnosis: Any, *messages: str) -> None:
        super().__init__(*messages)
        self.diagnosis = diagnosis


class LimitsExceeded(InterruptAgentFlow):
    """A budget is spent (steps, tokens, format errors, repeats); the run ends without a diagnosis.

    `outcome` names which budget, e.g. `step_limit`, `token_limit`, `format_errors`, `repetition_limit`.
    """

    def __init__(self, outcome: str, *messages: str) -> None:
        super().__init__(*messages)
        self.outcome = outcome


class FormatError(InterruptAgentFlow):
    """The reply holds neither exactly one command nor a readable diagnosis; the messages explain."""

    outcome = "format_error"


class Refused(InterruptAgentFlow):
    """The command was not run (read-only policy refusal, or a repeat); the messages say why."""

    outcome = "refused"

    def __init__(self, *messages: str, repeated: bool = False) -> None:
        super().__init__(*messages)
        self.repeated = repeated

"""Shared by the scenario fuzz tests: run one scenario text through `validate` and `serve`'s derive.

The contract under test (issue 15): a file either fails `load_text` with ONE located line, or it
derives (what `sim serve` does before listening) without any exception, within a time limit.
"""

from __future__ import annotations

import signal
import tempfile
from pathlib import Path

from atlas_sre.scenarios.loader import ScenarioError, load_text
from atlas_sre.scenarios.serving import build_state

NOW = "2026-12-01T00:00:00Z"


class Hang(BaseException):
    """Raised by the alarm: the step ran past its limit (BaseException, so no `except Exception` eats it)."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang()


def validate_then_serve(text: str, limit_s: float = 20.0) -> str:
    """'rejected: <line>' or 'served'; raises Hang past `limit_s`, anything else is a bug."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        try:
            load_text(text, file="fuzz.yaml")
        except ScenarioError as exc:
            message = str(exc)
            assert "\n" not in message and message.startswith("fuzz.yaml"), message
            return f"rejected: {message}"
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "fuzz.yaml"
            path.write_text(text, encoding="utf-8")
            build_state(str(path), now=NOW)  # what `sim serve` runs before it listens
        return "served"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

"""Modeled time-to-resolution: what an investigation would take on a stated deployment.

Why model it: wall time measures the machine the benchmark ran on (a laptop's reference agents
answer in milliseconds; a CPU-bound 0.5B model takes minutes). Modeled time measures the
*investigation* — how many commands it ran, how many tokens each role produced and read, how much
output there was to read — priced with one documented table, so two runs on different machines
compare, and a run with reference agents says what the same trajectory would cost with real models.

    TTR = commands × (command_latency_s + think_s)
        + Σ_roles ( completion_tokens / generate_tps(size) + prompt_tokens / prompt_tps(size) )
        + output_lines × read_s_per_line

That is time to *submit*: a fast wrong answer scores as fast. What an SRE means by resolution is
time to a *correct* diagnosis, so the reports also show

    TTR_correct = TTR                    if the diagnosis is correct
                = TTR + escalation_s     if it is wrong or empty (errors and budget stops included)

the escalation being what a wrong answer costs on top: a person takes over. Default 2700 s = 45
min, the seed's own baseline for a human investigation (`BenchConfig.escalation_s`); the seed's
claim is 45 min → 3 min (`SEED_SPEEDUP` = 15×), which the report's speed-up ratios sit next to.

Defaults: 2 s per command (API round trip + kubectl), 1 s of agent overhead per step, 0.2 s per
output line read. Throughputs (tokens/s) per model size are in `THROUGHPUT`; the 0.5B and 1.5B
rows were measured with llama.cpp (Q4_K_M) on this project's 2-core machine, the others are
typical single-request serving figures (stated as assumptions, change them with `TTRModel`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

THROUGHPUT: dict[str, tuple[float, float]] = {
    # size: (generation tokens/s, prompt-processing tokens/s)
    "0.5B": (28.0, 125.0),    # measured: llama.cpp Q4_K_M, 2 CPU cores
    "1.5B": (15.0, 65.0),     # measured: llama.cpp Q4_K_M, 2 CPU cores
    "8B": (40.0, 2000.0),     # assumed: one data-centre GPU, vLLM, single request
    "70B": (15.0, 600.0),     # assumed: tensor-parallel GPUs, vLLM, single request
    "api": (60.0, 4000.0),    # assumed: a hosted frontier-model API
}
REFERENCE_SIZE = "8B"
"""Reference agents stand in for the seed's "standard 8B instruct" student and ATLAS-8B teacher."""

_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*b(?![a-z])", re.IGNORECASE)


def size_of(spec: str) -> str:
    """The `THROUGHPUT` row for a model spec string.

    `reference:*` → 8B; `openai:gpt-*`/`openai:o*`/`openai:claude*` (a hosted API) → api; otherwise
    the first `<N>b` in the spec (`llamacpp:qwen2.5-coder-0.5b`, `hf:Qwen/Qwen3-8B`) snapped to the
    nearest row by log-distance; no number → api for `openai:`, else 8B.
    """
    if spec in THROUGHPUT:
        return spec
    scheme, _, rest = spec.partition(":")
    if scheme == "reference":
        return REFERENCE_SIZE
    match = _SIZE.search(rest or spec)
    if match:
        billions = float(match.group(1))
        rows = {k: float(k[:-1]) for k in THROUGHPUT if k.endswith("B")}
        return min(rows, key=lambda k: abs(_log(rows[k]) - _log(billions)))
    return "api" if scheme == "openai" else REFERENCE_SIZE


def _log(x: float) -> float:
    return math.log(max(x, 1e-3))


class TTRModel(BaseModel):
    """The priced investigation; every constant is a field so a report can state what it used."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command_latency_s: float = Field(2.0, ge=0)
    think_s: float = Field(1.0, ge=0)
    read_s_per_line: float = Field(0.2, ge=0)
    throughput: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(THROUGHPUT))

    def token_seconds(self, size: str, prompt: int, completion: int) -> float:
        generate_tps, prompt_tps = self.throughput[size]
        return completion / generate_tps + prompt / prompt_tps

    def seconds(
        self,
        commands: int,
        output_lines: int,
        tokens: Mapping[str, tuple[int, int]],
        sizes: Mapping[str, str],
    ) -> float:
        """TTR for one investigation. `tokens`: role → (prompt, completion); `sizes`: role → row."""
        total = commands * (self.command_latency_s + self.think_s) + output_lines * self.read_s_per_line
        for role, (prompt, completion) in tokens.items():
            total += self.token_seconds(sizes.get(role, REFERENCE_SIZE), prompt, completion)
        return round(total, 3)


DEFAULT_TTR = TTRModel()

DEFAULT_ESCALATION_S = 2700.0
"""A wrong or empty answer's cost: the seed's 45-minute human investigation."""
SEED_BASELINE_S, SEED_ATLAS_S = 2700.0, 180.0
SEED_SPEEDUP = SEED_BASELINE_S / SEED_ATLAS_S
"""The seed's claim: 45 min → 3 min, 15×."""


def time_to_correct(ttr_s: float, correct: bool, escalation_s: float = DEFAULT_ESCALATION_S) -> float:
    """Modeled time until a correct diagnosis: the investigation's own time, plus the escalation
    when its answer was wrong or missing (module docstring)."""
    return round(ttr_s + (0.0 if correct else escalation_s), 3)


def speedup(slow_s: float | None, fast_s: float | None) -> float | None:
    """slow / fast (e.g. untaught / taught time-to-correct); None when either is missing or zero."""
    if not slow_s or not fast_s:
        return None
    return round(slow_s / fast_s, 3)

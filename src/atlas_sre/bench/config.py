"""The benchmark's records: what a run is asked to do, what one episode is, what it produced.

Why plain pydantic models: an `EpisodeTask` crosses a process boundary (pickled to a `spawn`
worker) and an `EpisodeResult` is one line of `results.jsonl` — the file a crashed run resumes from
and every report is rebuilt from. Keeping both flat and JSON-native makes that file the whole
truth of a run: `atlas-sre report DIR` needs nothing else.
"""

from __future__ import annotations

import os
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MODES: tuple[str, ...] = ("student", "atlas", "atlas+capsules", "capsules")
"""Agent configurations, each run on the same incidents so every result has its control.

- `student`: the student alone (no teaching, no capsules) — the baseline.
- `atlas`: plan → probe → correct → execute, no memory between incidents.
- `atlas+capsules`: taught, and capsules consolidated after iteration k are retrieved in k+1.
- `capsules`: no teacher; capsules learned on the training split, frozen, applied to the test split.
"""

TEACHING: dict[str, bool] = {"student": False, "atlas": True, "atlas+capsules": True, "capsules": False}
DEFAULT_MODES: tuple[str, ...] = ("student", "atlas", "atlas+capsules")

Phase = Literal["train", "eval"]
Outcome = Literal["submitted", "limits", "error"]


def parse_modes(modes: str | list[str] | tuple[str, ...]) -> list[str]:
    """`"student,atlas"` or a list → validated, de-duplicated, in the canonical order of `MODES`."""
    items = modes.split(",") if isinstance(modes, str) else list(modes)
    wanted = {m.strip() for m in items if m.strip()}
    unknown = sorted(wanted - set(MODES))
    if unknown:
        raise ValueError(f"unknown mode(s) {', '.join(unknown)}: valid modes are {', '.join(MODES)}")
    if not wanted:
        raise ValueError(f"no mode given: valid modes are {', '.join(MODES)}")
    return [m for m in MODES if m in wanted]


def check_agent_modes(agent: str | None, modes: list[str]) -> None:
    """An outside agent (`--agent`) is neither taught nor given capsules: only mode `student` is meaningful."""
    if agent is not None and list(modes) != ["student"]:
        raise ValueError(f"--agent runs only mode student (an outside agent is neither taught nor given "
                         f"capsules), got --modes {','.join(modes)}")


RUN_PLACE: tuple[str, ...] = ("workers", "executor", "ray_address")
"""`BenchConfig` fields that decide where and how fast episodes run, never their numbers."""


class BenchConfig(BaseModel):
    """Everything that decides a run's numbers (`RUN_PLACE` only decides where and how fast they come)."""

    model_config = ConfigDict(extra="forbid")

    scenarios: list[str] = Field(default_factory=lambda: ["builtin"])
    modes: list[str] = Field(default_factory=lambda: list(DEFAULT_MODES))
    iterations: int = Field(default=1, ge=1)
    repeats: int = Field(default=1, ge=1)
    split: str | None = Field(default=None, description="train fraction ('0.5') or counts ('6:6')")
    train_iterations: int = Field(default=1, ge=1, description="passes over the training split")
    workers: int = Field(default=1, ge=0, description="worker processes; 0 = auto (`auto_workers`)")
    student: str = "reference:student"
    teacher: str = "reference:teacher"
    seed: int = 0
    probe_token_limit: int = Field(default=50, ge=1)
    correction_token_limit: int = Field(default=200, ge=1)
    max_steps: int | None = Field(default=None, ge=1)
    capsules_from: str | None = Field(
        default=None, description="capsule store the run's stores start from (a library learnt elsewhere)")
    tool_mode: Literal["auto", "native", "text", "constrained"] = Field(
        default="auto", description="how a model student acts (docs/models.md); reference agents ignore it")
    student_size: str | None = Field(default=None, description="TTR throughput profile override")
    teacher_size: str | None = Field(default=None, description="TTR throughput profile override")
    escalation_s: float = Field(
        default=2700.0, ge=0, description="time-to-correct cost of a wrong or empty answer (the seed's 45 min)")
    no_analyzer: bool = Field(
        default=False, description="agents get no `analyze` tool: what they know beyond the analyzer")
    teacher_prompts: dict[str, str] | None = Field(
        default=None, description="the LLM teacher's templates replacing the packaged ones, by name (the texts "
                                  "themselves, so the run's identity is the prompts, not a folder's path)")
    agent: str | None = Field(
        default=None, description="an outside agent, 'cmd:<template>' with {incident} (bench/external.py); "
                                  "runs mode student only")
    agent_timeout_s: float = Field(default=600.0, gt=0, description="per-episode limit of an outside agent")
    executor: Literal["local", "ray"] = Field(
        default="local", description="where episodes run: local processes or Ray tasks (docs/ray.md)")
    ray_address: str | None = Field(
        default=None, description="the Ray cluster to join (`auto`, HOST:PORT, ray://HOST:PORT); none: a local Ray")

    @field_validator("modes", mode="before")
    @classmethod
    def _modes(cls, value: Any) -> list[str]:
        return parse_modes(value)

    @field_validator("split")
    @classmethod
    def _split(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if re.fullmatch(r"\d+:\d+", value) or re.fullmatch(r"0?\.\d+|0|1(\.0*)?", value):
            return value
        raise ValueError(f"--split must be a train fraction such as 0.5 or train:test counts such as 6:6, "
                         f"got {value!r}")

    @model_validator(mode="after")
    def _outside_agent_modes(self) -> BenchConfig:
        check_agent_modes(self.agent, self.modes)
        return self

    @model_validator(mode="after")
    def _ray_address_needs_ray(self) -> BenchConfig:
        if self.ray_address and self.executor != "ray":
            raise ValueError("--ray-address needs --executor ray")
        return self

    def identity(self) -> dict[str, Any]:
        """The fields a resumed run must share with the run it continues: not how fast or where it runs
        (`workers`, `executor`, `ray_address`), so a run started locally may be finished on Ray."""
        return self.model_dump(exclude=set(RUN_PLACE))


class TokenUse(BaseModel):
    """Tokens one role spent in one phase, as the backend counted them."""

    prompt: int = 0
    completion: int = 0

    @property
    def total(self) -> int:
        return self.prompt + self.completion


class ScenarioMeta(BaseModel):
    """What reports group by; read from the scenario file (never shown to an agent)."""

    name: str
    path: str
    faults: list[str] = Field(default_factory=list)
    category: str = "none"
    complexity: str = "unknown"
    domain: str = "unknown"


class EpisodeTask(BaseModel):
    """One (scenario, mode, iteration, repeat) to run, with everything a worker process needs."""

    key: str
    phase: Phase = "eval"
    scenario: ScenarioMeta
    mode: str
    iteration: int = 0
    repeat: int = 0
    seed: int = 0
    teach: bool = False
    store_group: str | None = Field(default=None, description="capsule store this episode reads")
    capsule_store: str | None = Field(default=None, description="path of a private snapshot to read")
    student: str = "reference:student"
    teacher: str = "reference:teacher"
    probe_token_limit: int = 50
    correction_token_limit: int = 200
    max_steps: int | None = None
    tool_mode: str = "auto"
    no_analyzer: bool = False
    teacher_prompts: dict[str, str] | None = None
    run_dir: str = "."
    trace_path: str | None = None


class GradeFields(BaseModel):
    """The `Grade` numbers a report needs (entity lists stay in the trace)."""

    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    strict: float = 0.0
    category_match: bool | None = None
    propagation_f1: float | None = None
    proximity: float = 0.0
    correct: bool = False
    no_fault: bool = False


class BaselineFields(BaseModel):
    """The untaught run the protocol made inside this episode (its own control), if it made one."""

    correct: bool = False
    strict: float = 0.0
    f1: float = 0.0
    student_tokens: int = 0
    commands: int = 0
    outcome: Outcome = "submitted"


class EpisodeResult(BaseModel):
    """One finished episode: one line of `results.jsonl`."""

    model_config = ConfigDict(extra="ignore")

    key: str
    phase: Phase = "eval"
    scenario: str
    faults: list[str] = Field(default_factory=list)
    category: str = "none"
    complexity: str = "unknown"
    domain: str = "unknown"
    mode: str
    iteration: int = 0
    repeat: int = 0
    seed: int = 0
    outcome: Outcome = "submitted"
    message: str = ""
    diagnosis: dict[str, Any] | None = None
    grade: GradeFields | None = None
    baseline: BaselineFields | None = None
    tokens: dict[str, TokenUse] = Field(default_factory=dict, description="'role.phase' → tokens")
    commands: int = 0
    output_lines: int = 0
    wall_s: float = 0.0
    ttr_s: float = 0.0
    capsules_used: list[str] = Field(default_factory=list)
    capsules_retrieved: list[str] = Field(default_factory=list)
    teaching: dict[str, Any] | None = None
    trace: str | None = None

    @property
    def correct(self) -> bool:
        """Root cause found; an errored episode counts as wrong (it gave no answer)."""
        return bool(self.grade and self.grade.correct)

    def role_tokens(self, role: str, part: Literal["total", "prompt", "completion"] = "total") -> int:
        """Tokens of one role (`student` or `teacher`) over every phase: all, or only read / written."""
        return sum(t.total if part == "total" else getattr(t, part)
                   for k, t in self.tokens.items() if k.split(".", 1)[0] == role)

    @property
    def total_tokens(self) -> int:
        return sum(t.total for t in self.tokens.values())


def auto_workers() -> int:
    """3 × CPU cores: an episode spends most of its wall time waiting (kubectl processes starting,
    the API server answering, the server shutting down), so 2 cores keep ~6 episodes busy —
    measured: 89 investigations/min with 2 workers, 152 with 4, 194 with 6 on 2 cores."""
    return 3 * (os.cpu_count() or 1)


def episode_key(phase: str, mode: str, scenario: str, iteration: int, repeat: int) -> str:
    """The identity of an episode in `results.jsonl` (resume skips keys already there)."""
    return f"{phase}/{mode}/{scenario}/i{iteration}/r{repeat}"


def safe_name(key: str) -> str:
    """A file name for a key (`/` and `+` are not welcome in every file system or URL)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key)

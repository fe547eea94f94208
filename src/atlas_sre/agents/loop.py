"""The investigation loop: one command per step, its observation back, until a diagnosis or a budget.

mini-swe-agent's shape: the message list *is* the trajectory; `step()` queries the student, parses
its reply (the same parser for every student), runs the command in the `Environment`
(`execute(command) -> Observation`: a served scenario, a real cluster, a test double) and appends
the observation. Every non-normal turn is an exception carrying the
text to feed back (`FormatError`, `Refused`) or ending the run (`Submitted`, `LimitsExceeded`), so
garbled output, forbidden commands and endless repetition all end in a recorded outcome and never
in a crash. Budgets: steps, student tokens (prompt + completion as the backend counted them),
consecutive format errors, repeated commands.

When one of those limits stops a run that has evidence (at least `min_commands` commands ran), a
student that can (`FinalAnswerer`) gets one final turn asking for the diagnosis alone: small
models often hold the evidence and lose the answer by repeating a command until the limit. A
diagnosis given then counts as submitted, with `Trajectory.limit` naming the limit it came after.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from atlas_sre.agents.exceptions import FormatError, InterruptAgentFlow, LimitsExceeded, Refused, Submitted
from atlas_sre.agents.fences import fence_for, neutralise_markers
from atlas_sre.agents.parsing import parse_action
from atlas_sre.agents.prompting import render
from atlas_sre.agents.trajectory import Step, Trajectory
from atlas_sre.agents.types import Briefing, FinalAnswerer, Student
from atlas_sre.commands.next_checks import next_check
from atlas_sre.models.base import ModelError

if TYPE_CHECKING:  # the loop needs only `execute`; importing the environments (and the simulator) is the caller's
    from atlas_sre.environments.base import Environment


class LoopConfig(BaseModel):
    """Budgets of one investigation run."""

    model_config = ConfigDict(extra="forbid")

    max_steps: int = Field(20, ge=1, description="student replies before the run is stopped (a repeated "
                           "command is not one: `max_repeats` bounds those)")
    max_tokens: int = Field(400_000, ge=1, description="student prompt+completion tokens for the whole run")
    max_format_errors: int = Field(3, ge=1, description="consecutive unreadable replies before stopping")
    max_repeats: int = Field(3, ge=0, description="repeated commands in a row answered with a reminder before "
                             "stopping")
    min_commands: int = Field(1, ge=0, description="commands to run before a diagnosis is accepted (evidence first)")
    final_turn: bool = Field(True, description="after a limit, ask a FinalAnswerer student once for the diagnosis "
                             "alone (its tokens count beyond max_tokens)")


FINAL_TURN_LIMITS = frozenset({"step_limit", "token_limit", "repetition_limit", "format_errors"})
"""Limits after which the student gets its final diagnosis turn (never after a model failure)."""


_SPACE = re.compile(r"\s+")


def command_key(line: str) -> str:
    """What counts as 'the same command': whitespace-normalised text."""
    return _SPACE.sub(" ", line.strip())


class InvestigationLoop:
    """Runs one student against one environment; `run()` returns the Trajectory."""

    def __init__(self, student: Student, environment: Environment, config: LoopConfig | None = None,
                 *, default_namespace: str | None = None, on_step: Callable[[Step], None] | None = None) -> None:
        self.student = student
        self.environment = environment
        self.config = config or LoopConfig()
        self.default_namespace = default_namespace
        self.on_step = on_step
        self._seen: dict[str, int] = {}
        self._repeats = 0
        self._format_errors = 0

    def run(self, briefing: Briefing, label: str = "run") -> Trajectory:
        """Investigate until the student submits or a budget ends the run."""
        started = time.monotonic()
        namespace = self.default_namespace or briefing.default_namespace
        self.default_namespace = namespace
        traj = Trajectory(label=label, student=self.student.name, incident=briefing.incident.text())
        traj.messages.extend(self.student.start(briefing))
        while traj.outcome == "running":
            step = Step(n=len(traj.steps) + 1, kind="command")
            try:
                self.step(traj, step)
            except Submitted as exc:
                step.kind = "submit"
                traj.outcome = "submitted"
                traj.diagnosis = exc.diagnosis.model_dump(mode="json")
            except LimitsExceeded as exc:
                step.kind = "limit" if step.kind == "command" else step.kind
                traj.outcome, traj.detail = exc.outcome, str(exc)
                final = self._final_answerer(traj) is not None
                self._add(traj, step, render("final_turn" if final else "limit_reached", reason=str(exc)))
            except InterruptAgentFlow as exc:
                for message in exc.messages:
                    self._add(traj, step, message)
            finally:
                traj.steps.append(step)
                if self.on_step is not None:
                    self.on_step(step)
        answerer = self._final_answerer(traj)
        if answerer is not None:
            self._final_turn(traj, answerer)
        traj.duration_s = time.monotonic() - started
        return traj

    def _final_answerer(self, traj: Trajectory) -> FinalAnswerer | None:
        """The student, when a limit just ended a run that has evidence and the student can give a final answer.

        Without evidence (fewer than `min_commands` commands) there is nothing to conclude from, and
        a final turn would let a model that never ran a command answer anyway.
        """
        due = (self.config.final_turn and traj.outcome in FINAL_TURN_LIMITS
               and len(traj.commands) >= self.config.min_commands)
        return self.student if due and isinstance(self.student, FinalAnswerer) else None

    def _final_turn(self, traj: Trajectory, answerer: FinalAnswerer) -> None:
        """One reply asking for the diagnosis only; a diagnosis ends the run as submitted, else the limit stands."""
        step = Step(n=len(traj.steps) + 1, kind="final")
        try:
            action = answerer.final_answer(list(traj.messages))
        except ModelError as exc:
            traj.detail += f"; the final turn failed: {exc}"
        else:
            step.prompt_tokens, step.completion_tokens = action.usage.prompt_tokens, action.usage.completion_tokens
            step.model_latency_s = action.usage.latency_s
            self._add(traj, step, action.text, role="assistant")
            try:
                parse_action(action.text, self.default_namespace)
            except Submitted as exc:
                traj.limit, traj.outcome = traj.outcome, "submitted"
                traj.diagnosis = exc.diagnosis.model_dump(mode="json")
                traj.detail = f"diagnosis given in the final turn after: {traj.detail}"
            except FormatError as exc:
                traj.detail += f"; the final turn gave no diagnosis ({exc})"
            else:
                traj.detail += "; the final turn gave a command, not a diagnosis"
        traj.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def step(self, traj: Trajectory, step: Step) -> None:
        """Query, parse, check for repeats, execute, observe (raises to leave the step early)."""
        self._check_budgets(traj, step)
        try:
            action = self.student.act(list(traj.messages))
        except ModelError as exc:
            step.kind = "model_error"
            raise LimitsExceeded("model_error", f"the student's model failed: {exc}") from None
        step.prompt_tokens, step.completion_tokens = action.usage.prompt_tokens, action.usage.completion_tokens
        step.model_latency_s = action.usage.latency_s
        self._add(traj, step, action.text, role="assistant")
        try:
            command = parse_action(action.text, self.default_namespace)
        except Submitted:
            if len(traj.commands) >= self.config.min_commands:
                raise
            error: FormatError | None = FormatError(
                f"No evidence yet: run at least {self.config.min_commands} read-only command(s) before submitting "
                "the diagnosis; the entity you blame must be proved by command output.")
        except FormatError as exc:
            error = exc
        else:
            error = None
        if error is not None:
            step.kind = "format_error"
            self._format_errors += 1
            if self._format_errors >= self.config.max_format_errors:
                raise LimitsExceeded("format_errors", f"{self._format_errors} unusable replies in a row "
                                     f"(last: {error})")
            raise FormatError(render("format_error", error=str(error)))
        self._format_errors = 0
        step.command = command
        self._execute(traj, step, command)

    def _check_budgets(self, traj: Trajectory, step: Step) -> None:
        # A repeat runs nothing and is answered with a reminder; small models often echo their last command
        # once after each observation, and counting that echo halved their real budget (measured: 4 commands
        # of 8 steps for qwen2.5-coder-1.5b). `max_repeats` stops a model that does nothing else.
        if sum(1 for s in traj.steps if s.kind != "repeated") >= self.config.max_steps:
            raise LimitsExceeded("step_limit", f"step limit of {self.config.max_steps} reached without a diagnosis")
        spent = traj.usage.total
        if spent >= self.config.max_tokens:
            raise LimitsExceeded("token_limit", f"token budget of {self.config.max_tokens} spent ({spent} tokens) "
                                 "without a diagnosis")

    def _execute(self, traj: Trajectory, step: Step, command: str) -> None:
        key = command_key(command)
        if key in self._seen:
            step.kind = "repeated"
            self._repeats += 1
            if self._repeats > self.config.max_repeats:
                raise LimitsExceeded("repetition_limit", f"the same commands were repeated {self._repeats} times")
            raise Refused(render("repeated_command", command=key, first_step=self._seen[key],
                                 next_check=next_check(key, self.default_namespace),
                                 repeats_left=self.config.max_repeats - self._repeats + 1), repeated=True)
        self._seen[key] = step.n
        self._repeats = 0  # the limit is on repeats in a row: a model that echoes once, then moves on, is not stuck
        result = self.environment.execute(command)
        step.duration_s = float(result.duration_s)
        step.exit_code = int(result.exit_code)
        step.truncated = bool(result.truncated)
        observation = str(result.observation)
        step.observation_bytes = len(observation.encode())
        step.observation_lines = observation.count("\n") + (1 if observation and not observation.endswith("\n") else 0)
        if result.refused:
            step.kind = "refused"
            raise Refused(render("refused_command", observation=observation.strip()))
        self._add(traj, step, observation_message(observation, step.exit_code, step.observation_lines, step.truncated))

    @staticmethod
    def _add(traj: Trajectory, step: Step, content: str, role: str = "user") -> None:
        message = {"role": role, "content": content}
        traj.messages.append(message)
        step.messages.append(message)


def observation_message(observation: str, exit_code: int, lines: int, truncated: bool) -> str:
    """The message that carries a command's output to the student: exit code and size, then the output in
    a fence it cannot close and with chat-template markers broken (`fences`), since it is cluster text."""
    output = neutralise_markers(observation.rstrip("\n"))
    return render("observation", exit_code=exit_code, lines=lines, truncated=", truncated" if truncated else "",
                  fence=fence_for(output), output=output)


def run_investigation(student: Student, environment: Environment, briefing: Briefing, *,
                      config: LoopConfig | None = None, label: str = "run", default_namespace: str | None = None,
                      on_step: Callable[[Step], None] | None = None) -> Trajectory:
    """One-call form of `InvestigationLoop(...).run(briefing, label)`."""
    loop = InvestigationLoop(student, environment, config, default_namespace=default_namespace, on_step=on_step)
    return loop.run(briefing, label)

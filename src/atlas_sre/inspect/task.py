"""`atlas_sre/rca`: root-cause analysis over the scenario library, as an Inspect AI task.

    inspect eval atlas_sre/rca --model openai/MODEL -T scenarios=core -T teach=true

An evaluation is dataset + solver + scorer: the scenarios (`dataset.py`), an optional ATLAS
teaching step (`teach.py`) then a ReAct agent on the sample's served scenario (`solvers.py`), and
the project's grader (`scorer.py`). See docs/inspect.md.
"""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.solver import Solver

from atlas_sre.inspect.dataset import scenario_dataset
from atlas_sre.inspect.scorer import rca_grader
from atlas_sre.inspect.solvers import investigate
from atlas_sre.inspect.teach import teach as teach_step


def _flag(value: bool | str) -> bool:
    """`-T teach=true` arrives as a bool from YAML-typed args, but accept the words too."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"expected true or false, got {value!r}")
    return word in ("true", "1", "yes")


@task
def rca(scenarios: str = "builtin", teach: bool = False, teacher: str = "reference:teacher",
        max_steps: int = 20, analyzer: bool = True, probe_token_limit: int = 50,
        correction_token_limit: int = 200) -> Task:
    """Find the root cause of each scenario's incident with read-only kubectl, graded by the project's grader.

    Args:
        scenarios: a set (`builtin`, `core`, `library`, `generated:N[:SEED]`), a folder, files or
            scenario names, comma-separated (as `atlas-sre bench --scenarios`).
        teach: run the ATLAS teaching step first (student plan, teacher probe and correction).
        teacher: the teacher spec for `teach` (`reference:teacher`, `openai:MODEL`, ...).
        max_steps: tool calls the agent may make before its diagnosis.
        analyzer: offer the `analyze` tool (false: kubectl only).
        probe_token_limit: the teacher's probe budget (tokens).
        correction_token_limit: the teacher's correction budget (tokens).
    """
    if max_steps < 1:
        raise ValueError(f"max_steps must be at least 1, got {max_steps}")
    analyzer = _flag(analyzer)
    plan: list[Solver] = []
    if _flag(teach):
        plan.append(teach_step(teacher, probe_token_limit, correction_token_limit, analyzer=analyzer))
    plan.append(investigate(max_steps, analyzer))
    return Task(dataset=scenario_dataset(scenarios), solver=plan, scorer=rca_grader(), name="rca",
                version=1, metadata={"scenarios": scenarios, "teach": _flag(teach), "teacher": teacher})

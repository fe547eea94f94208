"""The investigation solver: serve the sample's scenario, run a ReAct agent with its tools, stop the server.

The scenario is served exactly as `atlas-sre bench` serves it (`open_scenario` at the benchmark's
fixed observation instant `OBSERVED_AT`, on a fresh 127.0.0.1 port with its own kubeconfig), for
the duration of this sample only: samples running in parallel never share a cluster, and the
server stops even when a limit or an error ends the sample. The agent is Inspect's `react()` with
the sample's `kubectl` / `analyze` tools and `submit_diagnosis` as its submit tool, whose answer
(the diagnosis JSON) becomes the completion the scorer grades.
"""

from __future__ import annotations

from functools import partial

import anyio
from inspect_ai.agent import AgentPrompt, AgentSubmit, as_solver, react
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import message_limit

from atlas_sre.bench.episode import OBSERVED_AT
from atlas_sre.environments import ScenarioEnvironment, default_tools, open_scenario
from atlas_sre.inspect.prompts import instructions, namespace_line
from atlas_sre.inspect.tools import sample_tools, submit_tool

CONTINUE = ("Call one tool: `kubectl` for the next read-only check, or `{submit}` when the evidence proves "
            "the root cause.")


async def serve(path: str, analyzer: bool) -> ScenarioEnvironment:
    """The scenario at `path`, derived and served (in a worker thread: deriving takes CPU time)."""
    return await anyio.to_thread.run_sync(
        partial(open_scenario, path, anchor=OBSERVED_AT, tools=default_tools(analyzer=analyzer)))


def message_budget(max_steps: int) -> int:
    """The hard stop: system + task, a call and its result per step, one call past the step budget (the
    tools answer it with "submit now") and the submit itself. A model that still does not submit ends
    here, unanswered."""
    return 2 + 2 * max_steps + 2 + 2


@solver
def investigate(max_steps: int = 20, analyzer: bool = True) -> Solver:
    """Investigate the sample's served scenario with read-only tools until `submit_diagnosis` or the budget."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        env = await serve(state.metadata["scenario_path"], analyzer)
        try:
            state.user_prompt.text = state.user_prompt.text + namespace_line(env.namespace)
            agent = react(
                prompt=AgentPrompt(instructions=instructions(max_steps, analyzer), assistant_prompt=None,
                                   submit_prompt=None),
                tools=sample_tools(env, max_steps, analyzer=analyzer),
                submit=AgentSubmit(tool=submit_tool(env.namespace), answer_only=True, keep_in_messages=True),
                on_continue=CONTINUE,
            )
            return await as_solver(agent, limits=[message_limit(message_budget(max_steps))])(state, generate)
        finally:
            await anyio.to_thread.run_sync(env.close)

    return solve

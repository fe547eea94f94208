"""inspect room: the scenario library as an Inspect AI task, `atlas_sre/rca` (docs/inspect.md).

    inspect eval atlas_sre/rca --model openai/MODEL -T scenarios=core
    from inspect_ai import eval; eval(rca(scenarios="core"), model="openai/MODEL")

Dataset = scenarios (input: the incident briefing only), solver = optional ATLAS teaching step then a
ReAct agent with read-only `kubectl` / `analyze` on the sample's served scenario, scorer = the grader.
"""

from atlas_sre.inspect.dataset import scenario_dataset
from atlas_sre.inspect.scorer import rca_grader
from atlas_sre.inspect.solvers import investigate
from atlas_sre.inspect.task import rca
from atlas_sre.inspect.teach import teach

__all__ = ["investigate", "rca", "rca_grader", "scenario_dataset", "teach"]

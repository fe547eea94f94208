"""Inspect's entry point (`[project.entry-points.inspect_ai]` in pyproject.toml): importing this module
registers the task, so `inspect eval atlas_sre/rca` finds it once atlas-sre is installed."""

from atlas_sre.inspect.scorer import rca_grader
from atlas_sre.inspect.solvers import investigate
from atlas_sre.inspect.task import rca
from atlas_sre.inspect.teach import teach

__all__ = ["investigate", "rca", "rca_grader", "teach"]

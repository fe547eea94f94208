"""protocol room: the ATLAS investigation as a pipeline of typed steps, and the seed-compatible adapter.

    atlas = ATLASInference(student_model="reference:student", teacher_model="reference:teacher",
                           probe_token_limit=50)
    result = atlas.run_full_protocol("Kubernetes service returning 503 errors")
    result = atlas.run_full_protocol(scenario="mesh-subset-missing")      # served by the simulator
    result = atlas.run_full_protocol("...", kubeconfig="~/.kube/config")  # a real cluster
    episode = atlas.run_episode(scenario="mesh-subset-missing")           # the typed Episode

An `Episode` flows through steps retrieve → plan → probe → correct → investigate → grade →
consolidate (`steps.py`); leave one out or swap it (`run_steps(episode, [...])`). The protocol
runs no command itself: `Investigate` hands the episode's `Environment` to the agents' loop.
"""

from atlas_sre.protocol.atlas import ATLASInference
from atlas_sre.protocol.episode import Episode, EpisodeStep
from atlas_sre.protocol.grading import grade_run
from atlas_sre.protocol.report import progress_line, render_report
from atlas_sre.protocol.result import protocol_result, trace_records
from atlas_sre.protocol.steps import (
    Consolidate,
    Correct,
    Investigate,
    Plan,
    Probe,
    Retrieve,
    grade,
    retrieve_capsules,
    run_steps,
)

__all__ = [
    "ATLASInference",
    "Consolidate",
    "Correct",
    "Episode",
    "EpisodeStep",
    "Investigate",
    "Plan",
    "Probe",
    "Retrieve",
    "grade",
    "grade_run",
    "progress_line",
    "protocol_result",
    "render_report",
    "retrieve_capsules",
    "run_steps",
    "trace_records",
]

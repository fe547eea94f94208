"""protocol room: the ATLAS protocol — plan → probe → correct → execute — with a baseline control.

    atlas = ATLASInference(student_model="reference:student", teacher_model="reference:teacher",
                           probe_token_limit=50)
    result = atlas.run_full_protocol("Kubernetes service returning 503 errors")
    result = atlas.run_full_protocol(scenario="mesh-subset-missing")      # served by the simulator
    result = atlas.run_full_protocol("...", kubeconfig="~/.kube/config")  # a real cluster

The protocol runs no command itself: the investigation loop does, through the session's
`CommandRunner`. `investigate_cli` is the body of `atlas-sre investigate`.
"""

from atlas_sre.protocol.atlas import ATLASInference, retrieve_capsules
from atlas_sre.protocol.cli_investigate import investigate_cli
from atlas_sre.protocol.cluster import (
    ClusterSession,
    ClusterUnavailable,
    open_kubeconfig,
    open_scenario,
    served_alerts,
)
from atlas_sre.protocol.grading import grade_run
from atlas_sre.protocol.report import progress_line, render_report

__all__ = [
    "ATLASInference",
    "ClusterSession",
    "ClusterUnavailable",
    "grade_run",
    "investigate_cli",
    "open_kubeconfig",
    "open_scenario",
    "progress_line",
    "render_report",
    "retrieve_capsules",
    "served_alerts",
]

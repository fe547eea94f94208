"""Ask the kubelet stage, ahead of time, whether pods of a template will become ready.

Controllers decide rollouts before the kubelet stage runs (a stuck rollout keeps its old pods, a
finished one deletes them), so they need the kubelet's verdict early:
`kubelet.stage.template_becomes_ready`. Answers are memoised per template and creation time.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.kubelet.stage import template_becomes_ready
from atlas_sre.sim.state import ClusterState, SimSpec
from atlas_sre.sim.workloads.baseline import registry

_MEMO_KEY = "template_ready"


def becomes_ready(spec: SimSpec, state: ClusterState, template: dict[str, Any], namespace: str,
                  at: datetime | None = None) -> bool:
    """The kubelet's prediction for pods of this template created at `at` (True when it cannot tell)."""
    memo = state.extras.setdefault(_MEMO_KEY, {})
    key = (namespace, ids.digest(template), at)
    if key not in memo:
        memo[key] = bool(template_becomes_ready(spec, state, template, namespace, at=at))
    return bool(memo[key])


def step_for(spec: SimSpec, state: ClusterState, template: dict[str, Any]) -> timedelta:
    """How long one rollout step takes: the slowest container's start-up plus its readiness delay."""
    reg = registry(spec, state)
    seconds = 2.0
    for c in (template.get("spec") or {}).get("containers") or []:
        behaviour = reg.get(str(c.get("image", "")))
        startup = behaviour.startupSeconds if behaviour else 2.0
        delay = float(((c.get("readinessProbe") or {}).get("initialDelaySeconds")) or 0)
        seconds = max(seconds, startup + delay + 1)
    return timedelta(seconds=math.ceil(seconds))

"""What one run of a container does, from its spec, its environment and the image's behaviour.

Every instance of a container created in the same configuration epoch behaves identically, so
this is computed once and replayed by the timeline: whether it can start at all (command), how
long it lives and how it ends (start-up requirement, `exit`, memory limit, a probe kill), when it
listens, starts and becomes ready, and the probe failures on the way. `template_becomes_ready`
asks the same questions, so a rollout and the pods it creates never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from atlas_sre.kube.quantity import parse_quantity
from atlas_sre.sim.images import ImageBehaviour
from atlas_sre.sim.kubelet.config import command_error, failing_requirement
from atlas_sre.sim.kubelet.probes import ProbeOutcome, build_probe, probe_outcome

Obj = dict[str, Any]
REQUIREMENT_EXIT_MS = 1000  # a failed start-up check exits about a second in
OOM_EXIT_CODE = 137
PROBE_KILL_EXIT_CODE = 137  # PID 1 ignores SIGTERM; SIGKILL after the grace period
STEADY_RUN_MS = 600_000  # the kubelet's own notion of "ran fine" (back-off reset)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render(template: str, values: dict[str, str]) -> str:
    """Fill `{name}` placeholders that are known; leave any other braces (JSON logs) untouched."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def memory_limit_mi(container: Obj) -> float | None:
    """The container's memory limit in MiB, if it has one."""
    raw = ((container.get("resources") or {}).get("limits") or {}).get("memory")
    if raw is None:
        return None
    value = float(parse_quantity(raw)) / 2**20
    return value if value > 0 else None


@dataclass(frozen=True)
class RunProfile:
    """One instance's life, offsets in ms from the moment it started."""

    start_error: str | None
    end_after: int | None  # None: still running at any horizon
    exit_code: int
    reason: str  # Completed | Error | OOMKilled (StartError uses start_error)
    fail_log: str | None  # the line written right before the end
    listen_after: int | None  # the process serves (and logs "ready")
    probes: ProbeOutcome
    kill_at: int | None = None  # the kubelet decided to kill (a probe gave up)

    @property
    def ready_after(self) -> int | None:
        return self.probes.ready_after

    @property
    def started_after(self) -> int | None:
        return self.probes.started_after

    def steady(self) -> bool:
        """Becomes ready and keeps running long enough for the kubelet to call it healthy."""
        return (self.start_error is None and self.ready_after is not None
                and (self.end_after is None or self.end_after >= STEADY_RUN_MS))

    def completes(self) -> bool:
        """Ends by itself with exit code 0 (what an init container must do)."""
        return self.start_error is None and self.end_after is not None and self.exit_code == 0 \
            and self.kill_at is None


def _end(code: int) -> str:
    return "Completed" if code == 0 else "Error"


def run_profile(
    container: Obj,
    behaviour: ImageBehaviour,
    env: dict[str, str],
    pod_ip: str,
    grace_ms: int,
    values: dict[str, str],
    with_probes: bool = True,
) -> RunProfile:
    """Derive the life of one instance; `values` fills log placeholders ({pod}, {namespace}, ...)."""
    none = ProbeOutcome(None, None, None, None, ())
    start_error = command_error(container, behaviour)
    if start_error:
        return RunProfile(start_error, 0, 128, "StartError", None, None, none)
    end: int | None = None
    code, reason, log = 0, "Completed", None
    failed = failing_requirement(behaviour, env)
    if failed is not None:
        req, seen = failed
        end, code, reason = REQUIREMENT_EXIT_MS, req.exitCode, _end(req.exitCode)
        log = render(req.log, {**values, "env": req.env, "value": seen})
    elif behaviour.exit is not None and not behaviour.hang:
        end, code = int(behaviour.exit.afterSeconds * 1000), behaviour.exit.code
        reason = _end(code)
        log = render(behaviour.exit.log, values) if behaviour.exit.log else None
    startup_ms = int(behaviour.startupSeconds * 1000)
    limit = memory_limit_mi(container)
    usage = behaviour.usage
    if limit is not None:
        oom: int | None = None
        if usage.memoryMi > limit:
            oom = max(startup_ms, 100)
        elif usage.memoryGrowthMiPerMin > 0:
            oom = int((limit - usage.memoryMi) / usage.memoryGrowthMiPerMin * 60_000)
        if oom is not None and (end is None or oom < end):
            end, code, reason, log = oom, OOM_EXIT_CODE, "OOMKilled", None
    listen = None if behaviour.hang or (end is not None and startup_ms >= end) else startup_ms
    probes = {}
    if with_probes:
        probes = {kind: build_probe(kind, container.get(key), container, behaviour, pod_ip)
                  for kind, key in (("Startup", "startupProbe"), ("Liveness", "livenessProbe"),
                                    ("Readiness", "readinessProbe"))}
    outcome = probe_outcome(probes, listen, end)
    kill = outcome.kill_after
    if kill is not None:
        end, code, reason, log = kill + grace_ms, PROBE_KILL_EXIT_CODE, "Error", None
        if listen is not None and listen >= end:
            listen = None
    return RunProfile(None, end, code, reason, log, listen, outcome, kill)

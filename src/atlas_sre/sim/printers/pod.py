"""The Pod printer: READY, STATUS and RESTARTS exactly as kube-apiserver 1.32 computes them.

An agent diagnoses almost everything from this one line ("CrashLoopBackOff", "Init:0/1",
"5 (2m ago)"), so the status logic follows `printPod` in
kubernetes/pkg/printers/internalversion/printers.go step by step: the pod phase or reason,
`SchedulingGated`, the first unfinished init container (`Init:N/M`, `Init:<reason>`,
`Init:ExitCode:N`, `Init:Signal:N`), then the *last* container with a waiting/terminated reason,
`Completed` turned back into `Running`/`NotReady` while a container still runs, and finally
`Terminating`/`Unknown` for pods being deleted. Restartable init containers (sidecars) count
towards READY and RESTARTS.
"""

from __future__ import annotations

from datetime import datetime

from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.printers.columns import AGE, NAME, Column, Printer, field_or
from atlas_sre.sim.printers.common import Obj, condition_true, meta, since


class _LastRestart:
    """The newest `lastState.terminated.finishedAt` seen, as Go keeps it in a `metav1.Time`."""

    def __init__(self) -> None:
        self.at: datetime | None = None
        self.text: str | None = None

    def see(self, status: Obj) -> None:
        finished = ((status.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        if finished:
            t = parse_time(finished)
            if self.at is None or self.at < t:
                self.at, self.text = t, finished


def _restartable(spec: Obj | None) -> bool:
    """A sidecar: an init container with `restartPolicy: Always`."""
    return bool(spec) and spec.get("restartPolicy") == "Always"


def _terminated_reason(term: Obj, prefix: str) -> str:
    """`<prefix><reason>`, or `<prefix>Signal:N` / `<prefix>ExitCode:N` when the reason is empty."""
    if term.get("reason"):
        return prefix + term["reason"]
    if term.get("signal"):
        return f"{prefix}Signal:{term['signal']}"
    return f"{prefix}ExitCode:{term.get('exitCode', 0)}"


def pod_status(pod: Obj, now: datetime) -> tuple[str, str, str]:
    """The (READY, STATUS, RESTARTS) cells of a pod."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    conditions = status.get("conditions") or []
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(spec.get("containers") or []) + sum(1 for c in init_specs.values() if _restartable(c))
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last, sidecar_last = _LastRestart(), _LastRestart()

    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in conditions:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    n_init = len(spec.get("initContainers") or [])
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        last.see(cs)
        sidecar = _restartable(init_specs.get(cs.get("name")))
        if sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            sidecar_last.see(cs)
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting")
        if term is not None and int(term.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if term is not None:
            reason = _terminated_reason(term, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{n_init}"
        initializing = True
        break

    if not initializing or condition_true(conditions, "Initialized"):
        restarts, last = sidecar_restarts, sidecar_last
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last.see(cs)
            state = cs.get("state") or {}
            waiting, term = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif term is not None:
                reason = _terminated_reason(term, "")
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            ready_cond = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            reason = "Running" if ready_cond else "NotReady"

    if meta(pod).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last.text:
        restarts_text = f"{restarts} ({since(last.text, now)} ago)"
    return f"{ready}/{total}", reason, restarts_text


def _readiness_gates(pod: Obj, now: datetime) -> str:
    """`N/M` readiness gates whose condition is True, `<none>` without gates."""
    gates = (pod.get("spec") or {}).get("readinessGates") or []
    if not gates:
        return "<none>"
    conditions = (pod.get("status") or {}).get("conditions") or []
    true = 0
    for gate in gates:
        for cond in conditions:
            if cond.get("type") == gate.get("conditionType"):
                true += 1 if cond.get("status") == "True" else 0
                break
    return f"{true}/{len(gates)}"


def _ip(pod: Obj, now: datetime) -> str:
    """The first of `status.podIPs` (else `status.podIP`), `<none>` before one is allocated."""
    status = pod.get("status") or {}
    ips = status.get("podIPs") or []
    return (ips[0].get("ip") if ips else status.get("podIP")) or "<none>"


def _conditions(pod: Obj) -> list[Obj] | None:
    """Row conditions the apiserver attaches to finished pods."""
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }
        ]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return None


PRINTERS: dict[str, Printer] = {
    "Pod": Printer([
        NAME,
        Column("Ready", "The aggregate readiness state of this pod for accepting traffic.", pod_status, part=0),
        Column("Status", "The aggregate status of the containers in this pod.", pod_status, part=1),
        Column("Restarts", "The number of times the containers in this pod have been restarted and when the last "
               "container in this pod has restarted.", pod_status, part=2),
        AGE,
        Column("IP", "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet "
               "allocated.", _ip, priority=1),
        Column("Node", "NodeName indicates in which node this pod is scheduled.",
               field_or("spec", "nodeName", default="<none>"), priority=1),
        Column("Nominated Node", "nominatedNodeName is set only when this pod preempts other pods on the node, but it "
               "cannot be scheduled right away as preemption victims receive their graceful termination periods.",
               field_or("status", "nominatedNodeName", default="<none>"), priority=1),
        Column("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness.",
               _readiness_gates, priority=1),
    ], conditions=_conditions),
}

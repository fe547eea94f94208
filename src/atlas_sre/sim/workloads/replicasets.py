"""The ReplicaSet controller: keep `spec.replicas` pods of a template, through admission.

A `ReplicaRun` is one ReplicaSet's pods over scenario time. Scaling up creates pods (quota and
the scheduler decide at that instant, so a later pod of a full namespace is refused and a pod for
a full node stays Pending); scaling down deletes the newest pods first. Refused creates become
FailedCreate events and the ReplicaFailure condition the rollup writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.events import REPLICASET_CONTROLLER, emit
from atlas_sre.sim.objects.index import add_object, index_of, remove_object
from atlas_sre.sim.objects.meta import born, owner_ref
from atlas_sre.sim.scheduler.core import scheduler_of
from atlas_sre.sim.scheduler.preempt import FOLLOWUPS_KEY, PreemptionHooks
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.failures import record_failures
from atlas_sre.sim.workloads.podgen import (
    AdmittedTemplate,
    admission_epoch,
    admit_template,
    new_pod,
    unique_suffix,
)
from atlas_sre.sim.workloads.quota import ledger
from atlas_sre.sim.workloads.readiness import becomes_ready

RUNS_KEY = "replica_runs"


@dataclass
class ReplicaRun:
    """One ReplicaSet's pods as the controller creates and deletes them."""

    rs: Obj
    admitted: AdmittedTemplate
    ready: bool  # whether pods of this template become ready once running (the kubelet's verdict)
    component: str = REPLICASET_CONTROLLER
    pods: list[Obj] = field(default_factory=list)
    attempts: int = 0
    failed_at: datetime | None = None
    failure: str | None = None  # the apiserver's refusal, naming the pod of the first refused attempt
    failed_name: str | None = None
    scaled_at: datetime | None = None
    born: dict[str, datetime] = field(default_factory=dict)  # pod uid -> creation time
    epoch: int = 0  # the admission epoch `admitted` was computed in (see `podgen.admission_epoch`)
    pod_admitted: dict[str, AdmittedTemplate] = field(default_factory=dict)  # uid -> what admitted it
    reported: bool = False  # FailedCreate events written (they already run up to the observation)

    @property
    def base(self) -> str:
        """The generateName prefix of this ReplicaSet's pods."""
        return f"{self.rs['metadata']['name']}-"

    def available(self, state: ClusterState, before: datetime | None = None) -> int:
        """Pods bound to a node whose template becomes ready (created before `before`, if given)."""
        if not self.ready:
            return 0
        bound = state.extras["scheduler"].pod_node
        return sum(1 for p in self.pods if p["metadata"]["uid"] in bound
                   and (before is None or self.born[p["metadata"]["uid"]] < before))


def start_run(spec: SimSpec, state: ClusterState, rs: Obj, at: datetime,
              component: str = REPLICASET_CONTROLLER) -> ReplicaRun:
    """Admit a ReplicaSet's template once (as of `at`) and remember the run for the rollup stage."""
    ns = rs["metadata"]["namespace"]
    admitted = admit_template(state, rs["spec"]["template"], ns, at, sim=spec, owner=owner_ref(rs))
    run = ReplicaRun(rs, admitted, becomes_ready(spec, state, admitted.as_template(), ns, at), component,
                     epoch=admission_epoch(spec, state, at))
    state.extras.setdefault(RUNS_KEY, {})[rs["metadata"]["uid"]] = run
    return run


def _readmit(spec: SimSpec, state: ClusterState, run: ReplicaRun, at: datetime) -> None:
    """Pods created after a change to what admission reads (a namespace label, a LimitRange) are
    admitted as of their creation, not as of the ReplicaSet's."""
    epoch = admission_epoch(spec, state, at)
    if epoch != run.epoch:
        run.admitted = admit_template(state, run.rs["spec"]["template"], run.admitted.namespace, at, sim=spec,
                                      owner=owner_ref(run.rs))
        run.epoch = epoch


def scale_to(spec: SimSpec, state: ClusterState, run: ReplicaRun, target: int, at: datetime) -> None:
    """Create or delete pods so the run has `target` of them (creation stops at the first refusal)."""
    idx, sched, led = index_of(state), scheduler_of(spec, state), ledger(state)
    ns = run.admitted.namespace
    run.rs["spec"]["replicas"] = target
    run.scaled_at = at
    labels: dict[str, Any] = {}
    pth = (run.rs["metadata"].get("labels") or {}).get("pod-template-hash")
    if pth:
        labels["pod-template-hash"] = pth
    if len(run.pods) < target:
        _readmit(spec, state, run, at)
    while len(run.pods) < target:
        name = unique_suffix(spec.seed, run.base, ("pod", run.attempts), idx.names("Pod", ns))
        run.attempts += 1
        err = f'pods "{name}" is forbidden: {run.admitted.error}' if run.admitted.error else None
        err = err or led.admit(run.admitted, name, at)
        if err:
            if run.failed_at is None:
                run.failed_at, run.failure, run.failed_name = at, err, name
            break
        pod = new_pod(state, spec.seed, run.admitted, name, at, labels=labels, owner=owner_ref(run.rs),
                      generate_name=run.base)
        add_object(state, pod)
        run.pods.append(pod)
        run.born[pod["metadata"]["uid"]] = at
        run.pod_admitted[pod["metadata"]["uid"]] = run.admitted
        emit(state, run.rs, "SuccessfulCreate", f"Created pod: {name}", first=at, component=run.component)
        sched.schedule(pod, at)
    while len(run.pods) > target:
        pod = run.pods.pop()
        led.release(run.pod_admitted.pop(pod["metadata"]["uid"], run.admitted))
        sched.forget(pod, at)
        remove_object(state, pod)
        emit(state, run.rs, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", first=at,
             component=run.component)


def finish_run(spec: SimSpec, state: ClusterState, run: ReplicaRun) -> None:
    """Record the FailedCreate events of a run whose creates were refused."""
    if run.failed_at is None or run.failure is None or run.reported:
        return
    run.reported = True
    failure, first_name = run.failure, run.failed_name or ""
    if len(run.pods) >= int(run.rs["spec"].get("replicas", 0)):
        emit(state, run.rs, "FailedCreate", f"Error creating: {failure}", first=run.failed_at, type_="Warning",
             component=run.component)
        return

    def message(k: int) -> str:
        name = first_name if k == 0 else f"{run.base}{ids.safe_suffix(5, spec.seed, run.base, 'refused', k)}"
        return "Error creating: " + failure.replace(f'pods "{first_name}"', f'pods "{name}"', 1)

    record_failures(state, run.rs, run.failed_at, message, component=run.component)


def run_of(state: ClusterState, rs: Obj) -> ReplicaRun | None:
    """The run of a ReplicaSet (None for one no controller ran)."""
    return state.extras.get(RUNS_KEY, {}).get(rs["metadata"]["uid"])


def reconcile_bare_replicaset(spec: SimSpec, state: ClusterState, rs: Obj) -> None:
    """A ReplicaSet from the manifests (not owned by a Deployment): all pods at its creation."""
    start = born(state, rs)
    run = start_run(spec, state, rs, start)
    scale_to(spec, state, run, int(rs["spec"].get("replicas", 1)), start)
    finish_run(spec, state, run)


def preemption_hooks(spec: SimSpec, state: ClusterState) -> PreemptionHooks:
    """Let the scheduler preempt pods of ReplicaSets: the victim is deleted, its ReplicaSet replaces it
    (queued as a follow-up, after the burst of pods the preemptor came with)."""
    runs: dict[str, ReplicaRun] = state.extras.setdefault(RUNS_KEY, {})

    def run_for(pod: Obj) -> ReplicaRun | None:
        owners = pod["metadata"].get("ownerReferences") or []
        run = runs.get(owners[0]["uid"]) if owners else None
        return run if run is not None and pod["metadata"]["uid"] in run.pod_admitted else None

    def evict(pod: Obj, at: datetime) -> None:
        run = run_for(pod)
        if run is None:
            return
        run.pods = [p for p in run.pods if p is not pod]
        ledger(state).release(run.pod_admitted.pop(pod["metadata"]["uid"]))
        remove_object(state, pod)

        def replace() -> None:
            scale_to(spec, state, run, int(run.rs["spec"].get("replicas", 0)), at)
            finish_run(spec, state, run)

        state.extras.setdefault(FOLLOWUPS_KEY, []).append((at, replace))

    return PreemptionHooks(lambda pod: run_for(pod) is not None, evict)

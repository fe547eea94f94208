"""The Job controller: its selector and labels, its pods over time, and how the Job ends.

A Job gets `batch.kubernetes.io/controller-uid` in its selector and pod labels, and creates
min(parallelism, completions) pods when it starts. How each pod's run ends is the kubelet's call
(`kubelet.predict.predict_pod`, the same replay the kubelet stage runs); the controller reacts as
the real one does:

- `restartPolicy: Never`: a failed pod counts one failure; a replacement is created after the
  controller's pod-failure back-off (10s doubling, capped at 10 minutes);
- `restartPolicy: OnFailure`: the kubelet restarts the container in place; once the pod's summed
  restart counts reach `backoffLimit` (`pastBackoffLimitOnFailure`) the Job fails;
- more failures than `backoffLimit` (default 6) fail the Job with `BackoffLimitExceeded`, and
  `activeDeadlineSeconds` past the start fails it with `DeadlineExceeded`: pods still running are
  deleted (`SuccessfulDelete`, counted as failed) and a `Warning` event names the reason.

The rollup stage turns the record kept here and the pods into Job status and conditions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from atlas_sre.sim.events import emit
from atlas_sre.sim.kubelet.predict import predict_pod
from atlas_sre.sim.kubelet.stage import DELETED_KEY
from atlas_sre.sim.objects.index import add_object, index_of
from atlas_sre.sim.objects.meta import born, owner_ref
from atlas_sre.sim.scheduler.core import scheduler_of
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.deployments import Deferred
from atlas_sre.sim.workloads.failures import record_failures
from atlas_sre.sim.workloads.podgen import admit_template, new_pod, unique_suffix
from atlas_sre.sim.workloads.quota import ledger

JOB_CONTROLLER = "job-controller"
JOB_RUNS_KEY = "job_runs"
POD_BACKOFF = timedelta(seconds=10)  # DefaultJobPodFailureBackOff
POD_BACKOFF_MAX = timedelta(minutes=10)  # MaxJobPodFailureBackOff
END_MESSAGES = {
    "BackoffLimitExceeded": "Job has reached the specified backoff limit",
    "DeadlineExceeded": "Job was active longer than specified deadline",
}


@dataclass
class JobRun:
    """The controller's record of one Job: what the status rollup reads."""

    job: Obj
    active: list[Obj] = field(default_factory=list)
    created: int = 0
    failed: int = 0  # failures counted by the controller (failed pods, pods deleted on failure)
    succeeded: int = 0
    deleted: int = 0  # active pods the controller deleted when the Job failed
    failed_at: datetime | None = None
    reason: str | None = None
    ended_at: datetime | None = None  # the Job finished (Complete or Failed)


def job_labels(job: Obj) -> dict[str, str]:
    """The labels the Job controller puts on its selector and every pod."""
    md = job["metadata"]
    return {"batch.kubernetes.io/controller-uid": md["uid"], "batch.kubernetes.io/job-name": md["name"],
            "controller-uid": md["uid"], "job-name": md["name"]}


def job_run(state: ClusterState, job: Obj) -> JobRun | None:
    """The controller's record of a Job (None if it never ran it)."""
    return state.extras.get(JOB_RUNS_KEY, {}).get(job["metadata"]["uid"])


def backoff_limit(job: Obj) -> int:
    """`spec.backoffLimit`, defaulted to 6 as the apiserver does."""
    value = (job.get("spec") or {}).get("backoffLimit")
    return 6 if value is None else int(value)


def _completions(job: Obj) -> int:
    value = job["spec"].get("completions")
    return 1 if value is None else int(value)


def _create(spec: SimSpec, state: ClusterState, jr: JobRun, at: datetime) -> Obj | None:
    """One pod of the Job, through admission and the scheduler; None if the apiserver refused it."""
    job = jr.job
    md, jspec = job["metadata"], job["spec"]
    admitted = admit_template(state, jspec["template"], md["namespace"], at, sim=spec, owner=owner_ref(job))
    base = f"{md['name']}-"
    name = unique_suffix(spec.seed, base, ("pod", jr.created), index_of(state).names("Pod", md["namespace"]))
    err = f'pods "{name}" is forbidden: {admitted.error}' if admitted.error else None
    err = err or ledger(state).admit(admitted, name, at)
    if err:
        message = f"Error creating: {err}"
        record_failures(state, job, at, lambda _k, m=message: m, component=JOB_CONTROLLER)
        return None
    pod = new_pod(state, spec.seed, admitted, name, at, owner=owner_ref(job), generate_name=base)
    pod["metadata"]["finalizers"] = ["batch.kubernetes.io/job-tracking"]
    add_object(state, pod)
    emit(state, job, "SuccessfulCreate", f"Created pod: {name}", first=at, component=JOB_CONTROLLER)
    scheduler_of(spec, state).schedule(pod, at)
    jr.created += 1
    jr.active.append(pod)
    return pod


def _watch(spec: SimSpec, state: ClusterState, jr: JobRun, pod: Obj) -> list[Deferred]:
    """When the controller next hears about `pod`: it ended, or it restarted past the limit."""
    sched = scheduler_of(spec, state)
    node = sched.pod_node.get(pod["metadata"]["uid"])
    if node is None:
        return []  # Pending: nothing ends
    neighbours = [p for p in sched.pods_on(node) if p is not pod]
    on_failure = (jr.job["spec"]["template"].get("spec") or {}).get("restartPolicy") == "OnFailure"
    limit = max(backoff_limit(jr.job), 1) if on_failure else None
    outcome = predict_pod(spec, state, pod, node.name, neighbours, state.clock.observe_at, restart_limit=limit)
    if outcome.limit_at is not None and (outcome.ended_at is None or outcome.limit_at < outcome.ended_at):
        return [(outcome.limit_at, functools.partial(_fail, spec, state, jr, "BackoffLimitExceeded", outcome.limit_at))]
    if outcome.ended_at is None:
        return []
    return [(outcome.ended_at, functools.partial(_pod_ended, spec, state, jr, pod, outcome.succeeded,
                                                 outcome.ended_at))]


def _start_pod(spec: SimSpec, state: ClusterState, jr: JobRun, at: datetime) -> list[Deferred]:
    if jr.ended_at is not None or at > state.clock.observe_at:
        return []
    pod = _create(spec, state, jr, at)
    return [] if pod is None else _watch(spec, state, jr, pod)


def _pod_ended(spec: SimSpec, state: ClusterState, jr: JobRun, pod: Obj, ok: bool, at: datetime) -> list[Deferred]:
    """A pod reached Succeeded or Failed: count it, then finish the Job or replace the pod."""
    if jr.ended_at is not None or pod not in jr.active:
        return []
    jr.active.remove(pod)
    if ok:
        jr.succeeded += 1
        if jr.succeeded >= _completions(jr.job):
            jr.ended_at = at
            return []
        if jr.succeeded + len(jr.active) < _completions(jr.job):
            return _start_pod(spec, state, jr, at)
        return []
    jr.failed += 1
    if jr.failed > backoff_limit(jr.job):
        return _fail(spec, state, jr, "BackoffLimitExceeded", at)
    delay = min(POD_BACKOFF * 2 ** (jr.failed - 1), POD_BACKOFF_MAX)
    return [(at + delay, functools.partial(_start_pod, spec, state, jr, at + delay))]


def _fail(spec: SimSpec, state: ClusterState, jr: JobRun, reason: str, at: datetime) -> list[Deferred]:
    """The Job failed at `at`: delete what still runs, record the reason, say so in an event."""
    if jr.ended_at is not None:
        return []
    job = jr.job
    jr.ended_at, jr.failed_at, jr.reason = at, at, reason
    deleted = state.extras.setdefault(DELETED_KEY, {})
    for pod in jr.active:  # the kubelet stops them at `at`, then they are gone
        deleted[pod["metadata"]["uid"]] = at
        emit(state, job, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", first=at,
             component=JOB_CONTROLLER)
    jr.failed += len(jr.active)
    jr.deleted = len(jr.active)
    jr.active = []
    emit(state, job, reason, END_MESSAGES[reason], first=at, type_="Warning", component=JOB_CONTROLLER)
    return []


def reconcile_job(spec: SimSpec, state: ClusterState, job: Obj) -> list[Deferred]:
    """Default the Job's selector and labels, create its first pods, and follow them over time."""
    md, jspec = job["metadata"], job["spec"]
    labels = job_labels(job)
    if not jspec.get("manualSelector"):
        jspec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": md["uid"]}}
    tmd = jspec["template"].setdefault("metadata", {})
    tmd["labels"] = {**(tmd.get("labels") or {}), **labels}
    for k, v in labels.items():
        md.setdefault("labels", {}).setdefault(k, v)
    md.setdefault("annotations", {})["batch.kubernetes.io/job-tracking"] = ""
    if jspec.get("suspend"):
        return []
    completions = jspec.get("completions")
    wanted = int(jspec.get("parallelism", 1))
    if completions is not None:
        wanted = min(wanted, int(completions))
    start = born(state, job)
    jr = JobRun(job)
    state.extras.setdefault(JOB_RUNS_KEY, {})[md["uid"]] = jr
    state.extras.setdefault("job_started", {})[md["uid"]] = start
    later: list[Deferred] = []
    for _ in range(wanted):
        pod = _create(spec, state, jr, start)
        if pod is None:
            break
        later += _watch(spec, state, jr, pod)
    deadline = jspec.get("activeDeadlineSeconds")
    if deadline is not None:
        at = start + timedelta(seconds=int(deadline))
        if at <= state.clock.observe_at:
            later.append((at, functools.partial(_fail, spec, state, jr, "DeadlineExceeded", at)))
    return later

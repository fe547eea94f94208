"""The CronJob controller: Jobs at each scheduled time, concurrency, history limits, status.

At every activation of `spec.schedule` (in `spec.timeZone`) between the CronJob's creation and
the observation, the controller creates Job `<name>-<minutes since the epoch>` from
`spec.jobTemplate`, owned by the CronJob and annotated with its scheduled time; the Job
controller runs it. `concurrencyPolicy: Forbid` skips a run while another is active
(`JobAlreadyActive`), `Replace` deletes the active one first. Finished Jobs beyond
`successfulJobsHistoryLimit` / `failedJobsHistoryLimit` are deleted with their pods. Status
(`active`, `lastScheduleTime`, `lastSuccessfulTime`) is written by the rollup from the Jobs that
exist, including Jobs a scenario declares with an ownerReference to the CronJob.

Only the most recent `MAX_RUNS` activations are simulated: anything older has long finished and
been pruned by the history limits on any schedule a real incident has.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from atlas_sre.sim.events import emit
from atlas_sre.sim.objects.index import add_object, index_of, remove_object
from atlas_sre.sim.objects.meta import born, clone, created_at, owner_ref, stamp
from atlas_sre.sim.scheduler.core import scheduler_of
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.cron import CronError, Schedule
from atlas_sre.sim.workloads.defaults import default_workload
from atlas_sre.sim.workloads.deployments import Deferred
from atlas_sre.sim.workloads.jobs import JobRun, job_run, reconcile_job

CRONJOB_CONTROLLER = "cronjob-controller"
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MAX_RUNS = 30
CRON_RUNS_KEY = "cron_runs"
SKIPPED_KEY = "cron_skipped"


def _runs(state: ClusterState, cj: Obj) -> list[JobRun]:
    return state.extras.setdefault(CRON_RUNS_KEY, {}).setdefault(cj["metadata"]["uid"], [])


def _running(jr: JobRun, at: datetime) -> bool:
    return jr.ended_at is None or jr.ended_at > at


def _delete_job(spec: SimSpec, state: ClusterState, cj: Obj, jr: JobRun, at: datetime) -> None:
    """Delete a Job and (the garbage collector's part) its pods, before the kubelet ever runs them."""
    job = jr.job
    sched = scheduler_of(spec, state)
    for pod in index_of(state).list("Pod", job["metadata"]["namespace"]):
        if any(r.get("uid") == job["metadata"]["uid"] for r in pod["metadata"].get("ownerReferences") or []):
            sched.forget(pod, at)
            remove_object(state, pod)
    remove_object(state, job)
    emit(state, cj, "SuccessfulDelete", f"Deleted job {job['metadata']['name']}", first=at,
         component=CRONJOB_CONTROLLER)


def job_name(cj: Obj, at: datetime) -> str:
    """`<cronjob>-<minutes since the epoch>`: the name the controller gives the run scheduled at `at`."""
    return f"{cj['metadata']['name']}-{int(at.timestamp()) // 60}"


def _new_job(spec: SimSpec, state: ClusterState, cj: Obj, at: datetime) -> Obj:
    md, template = cj["metadata"], clone(cj["spec"].get("jobTemplate") or {})
    tmd = template.get("metadata") or {}
    job: Obj = {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": job_name(cj, at), "namespace": md["namespace"],
                     "labels": dict(tmd.get("labels") or {}),
                     "annotations": {**(tmd.get("annotations") or {}), SCHEDULED_ANNOTATION: state.clock.iso(at)},
                     "ownerReferences": [owner_ref(cj)]},
        "spec": template.get("spec") or {},
    }
    if not job["metadata"]["labels"]:
        del job["metadata"]["labels"]
    default_workload(job)
    stamp(state, spec.seed, job, at)
    return add_object(state, job)


def _tick(spec: SimSpec, state: ClusterState, cj: Obj, at: datetime) -> list[Deferred]:
    """One activation of the schedule at `at`."""
    runs = _runs(state, cj)
    active = [jr for jr in runs if _running(jr, at) and index_of(state).get("Job", jr.job["metadata"]["namespace"],
                                                                             jr.job["metadata"]["name"])]
    policy = cj["spec"].get("concurrencyPolicy", "Allow")
    if active and policy == "Forbid":
        state.extras.setdefault(SKIPPED_KEY, {}).setdefault(cj["metadata"]["uid"], []).append(at)
        return []
    if active and policy == "Replace":
        for jr in active:
            _delete_job(spec, state, cj, jr, at)
            jr.ended_at, jr.reason = at, "Replaced"
    if index_of(state).get("Job", cj["metadata"]["namespace"], job_name(cj, at)):
        # A Job of that name exists (declared, or made by another actor): the API server refuses the
        # create with AlreadyExists and the controller, as cronjob_controllerv2 does, lets it be.
        return []
    job = _new_job(spec, state, cj, at)
    emit(state, cj, "SuccessfulCreate", f"Created job {job['metadata']['name']}", first=at,
         component=CRONJOB_CONTROLLER)
    later = reconcile_job(spec, state, job)
    jr = job_run(state, job)
    if jr is not None:
        runs.append(jr)
    return later


def _finish(spec: SimSpec, state: ClusterState, cj: Obj) -> list[Deferred]:
    """At observation: `SawCompletedJob` for finished runs, then the history limits."""
    observe = state.clock.observe_at
    skipped = state.extras.get(SKIPPED_KEY, {}).get(cj["metadata"]["uid"])
    if skipped:  # one Event, its count raised by the correlator at every skipped run
        emit(state, cj, "JobAlreadyActive",
             "Not starting job because prior execution is running and concurrency policy is Forbid",
             first=skipped[0], last=skipped[-1], count=len(skipped), component=CRONJOB_CONTROLLER)
    done = sorted((jr for jr in _runs(state, cj) if jr.ended_at is not None and jr.ended_at <= observe
                   and index_of(state).get("Job", jr.job["metadata"]["namespace"], jr.job["metadata"]["name"])),
                  key=lambda jr: (jr.ended_at, jr.job["metadata"]["name"]))
    for jr in done:
        status = "Failed" if jr.reason else "Complete"
        emit(state, cj, "SawCompletedJob", f"Saw completed job: {jr.job['metadata']['name']}, status: {status}",
             first=jr.ended_at, component=CRONJOB_CONTROLLER)
    limits = {False: int(cj["spec"].get("successfulJobsHistoryLimit", 3)),
              True: int(cj["spec"].get("failedJobsHistoryLimit", 1))}
    for failed, limit in limits.items():
        group = [jr for jr in done if bool(jr.reason) == failed]
        excess = len(group) - limit
        for i, jr in enumerate(group[:max(excess, 0)]):
            # pruned at the sync after the run that pushed it past the limit finished
            pusher = group[i + limit]
            _delete_job(spec, state, cj, jr, pusher.ended_at or observe)
    return []


def reconcile_cronjob(spec: SimSpec, state: ClusterState, cj: Obj) -> list[Deferred]:
    """Queue every activation from the CronJob's creation to the observation."""
    cspec = cj.get("spec") or {}
    if cspec.get("suspend"):
        return []
    try:
        schedule = Schedule(str(cspec.get("schedule", "")), cspec.get("timeZone"))
    except CronError as exc:
        emit(state, cj, "UnparseableSchedule", f"unparseable schedule: {cspec.get('schedule')!r} : {exc}",
             first=born(state, cj), type_="Warning", component=CRONJOB_CONTROLLER)
        return []
    times = schedule.times(born(state, cj), state.clock.observe_at)[-MAX_RUNS:]
    later: list[Deferred] = [(t, functools.partial(_tick, spec, state, cj, t)) for t in times]
    later.append((state.clock.observe_at, functools.partial(_finish, spec, state, cj)))
    return later


def _owned_by(job: Obj, cj: Obj) -> bool:
    md = cj["metadata"]
    for ref in job["metadata"].get("ownerReferences") or []:
        if ref.get("uid") == md["uid"] or (ref.get("kind") == "CronJob" and ref.get("name") == md["name"]):
            return True
    return False


def _condition(job: Obj, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or [])


def rollup_cronjob(state: ClusterState, cj: Obj) -> None:
    """`status.active`, `lastScheduleTime` and `lastSuccessfulTime` from the Jobs the CronJob owns."""
    md = cj["metadata"]
    jobs = [j for j in index_of(state).list("Job", md["namespace"]) if _owned_by(j, cj)]
    status: dict[str, Any] = {}
    active = [j for j in jobs if not (_condition(j, "Complete") or _condition(j, "Failed"))]
    if active:
        status["active"] = [{"apiVersion": "batch/v1", "kind": "Job", "name": j["metadata"]["name"],
                             "namespace": md["namespace"], "uid": j["metadata"]["uid"],
                             "resourceVersion": j["metadata"].get("resourceVersion", "")}
                            for j in sorted(active, key=lambda j: j["metadata"]["name"])]
    scheduled = []
    for j in jobs:
        stamp_text = (j["metadata"].get("annotations") or {}).get(SCHEDULED_ANNOTATION)
        scheduled.append(stamp_text or state.clock.iso(created_at(state, j)))
    scheduled += [r.job["metadata"]["annotations"][SCHEDULED_ANNOTATION] for r in _runs(state, cj)]
    if scheduled:
        status["lastScheduleTime"] = max(scheduled)
    done = [(j.get("status") or {}).get("completionTime") for j in jobs if _condition(j, "Complete")]
    done += [state.clock.iso(r.ended_at) for r in _runs(state, cj)
             if r.ended_at is not None and r.ended_at <= state.clock.observe_at and not r.reason]
    if any(done):
        status["lastSuccessfulTime"] = max(d for d in done if d)
    cj["status"] = status

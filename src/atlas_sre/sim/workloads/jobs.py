"""The Job controller: the selector and labels it owns, and the first wave of pods.

A Job gets `batch.kubernetes.io/controller-uid` in its selector and pod labels, and creates
min(parallelism, completions) pods when it starts. Whether they succeed is the kubelet's call;
the rollup stage turns their phases into Job status, Complete/Failed conditions and events.
Replacement pods after failures are not simulated.
"""

from __future__ import annotations

from atlas_sre.sim.events import emit
from atlas_sre.sim.objects.index import add_object, index_of
from atlas_sre.sim.objects.meta import born, owner_ref
from atlas_sre.sim.scheduler.core import scheduler_of
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.failures import record_failures
from atlas_sre.sim.workloads.podgen import admit_template, new_pod, unique_suffix
from atlas_sre.sim.workloads.quota import ledger

JOB_CONTROLLER = "job-controller"


def job_labels(job: Obj) -> dict[str, str]:
    """The labels the Job controller puts on its selector and every pod."""
    md = job["metadata"]
    return {"batch.kubernetes.io/controller-uid": md["uid"], "batch.kubernetes.io/job-name": md["name"],
            "controller-uid": md["uid"], "job-name": md["name"]}


def reconcile_job(spec: SimSpec, state: ClusterState, job: Obj) -> list:
    """Default the Job's selector and labels, then create its first pods at the cluster's start."""
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
    admitted = admit_template(state, jspec["template"], md["namespace"], start, sim=spec,
                              owner=owner_ref(job))
    idx, sched = index_of(state), scheduler_of(spec, state)
    base = f"{md['name']}-"
    for k in range(wanted):
        name = unique_suffix(spec.seed, base, ("pod", k), idx.names("Pod", md["namespace"]))
        err = f'pods "{name}" is forbidden: {admitted.error}' if admitted.error else None
        err = err or ledger(state).admit(admitted, name, start)
        if err:
            message = f"Error creating: {err}"
            record_failures(state, job, start, lambda _k, m=message: m, component=JOB_CONTROLLER)
            break
        pod = new_pod(state, spec.seed, admitted, name, start, owner=owner_ref(job), generate_name=base)
        pod["metadata"]["finalizers"] = ["batch.kubernetes.io/job-tracking"]
        add_object(state, pod)
        emit(state, job, "SuccessfulCreate", f"Created pod: {name}", first=start, component=JOB_CONTROLLER)
        sched.schedule(pod, start)
    state.extras.setdefault("job_started", {})[md["uid"]] = start
    return []

"""The StatefulSet controller: ordinal pods `<name>-0..N-1` with their own claims.

With the default OrderedReady policy pod i+1 is only created once pod i is running and ready, so
a StatefulSet whose first pod never becomes ready shows just `<name>-0`. A template change
(history) updates pods from the highest ordinal down, stopping at the first one that does not
become ready, as the RollingUpdate strategy does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.events import emit
from atlas_sre.sim.objects.index import add_object, index_of, remove_object
from atlas_sre.sim.objects.meta import born, clone, entity, owner_ref, stamp
from atlas_sre.sim.objects.storage import bind_claim
from atlas_sre.sim.scheduler.core import scheduler_of
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.defaults import default_workload
from atlas_sre.sim.workloads.failures import record_failures
from atlas_sre.sim.workloads.podgen import AdmittedTemplate, admit_template, new_pod
from atlas_sre.sim.workloads.quota import ledger
from atlas_sre.sim.workloads.readiness import becomes_ready, step_for

STS_CONTROLLER = "statefulset-controller"
REVISIONS_KEY = "sts_revisions"


def _claim(spec: SimSpec, state: ClusterState, sts: Obj, tmpl: dict[str, Any], pod: str, at: datetime) -> None:
    md = sts["metadata"]
    name = f"{tmpl['metadata']['name']}-{pod}"
    ns = md["namespace"]
    if index_of(state).get("PersistentVolumeClaim", ns, name) is not None:
        return
    labels = dict((sts["spec"].get("selector") or {}).get("matchLabels") or {})
    pvc: Obj = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": name, "namespace": ns,
                             "labels": {**labels, **(tmpl["metadata"].get("labels") or {})}},
                "spec": clone(tmpl.get("spec") or {})}
    stamp(state, spec.seed, pvc, at)
    add_object(state, pvc)
    bind_claim(state, spec.seed, pvc, at)
    emit(state, sts, "SuccessfulCreate", f"create Claim {name} Pod {pod} in StatefulSet {md['name']} success",
         first=at, component=STS_CONTROLLER)


class _Creator:
    """Creates ordinal pods of one revision, through claims, quota and the scheduler."""

    def __init__(self, spec: SimSpec, state: ClusterState, sts: Obj, template: dict[str, Any],
                 at: datetime) -> None:
        self.spec, self.state, self.sts = spec, state, sts
        md = sts["metadata"]
        self.revision = f"{md['name']}-{ids.pod_template_hash(spec.seed, template)}"
        self.admitted: AdmittedTemplate = admit_template(state, template, md["namespace"], at, sim=spec,
                                                         owner=owner_ref(sts))
        self.ready = becomes_ready(spec, state, self.admitted.as_template(), md["namespace"], at)
        self.failure: tuple[datetime, str] | None = None

    def create(self, i: int, at: datetime) -> Obj | None:
        spec, state, sts = self.spec, self.state, self.sts
        md = sts["metadata"]
        name = f"{md['name']}-{i}"
        volumes = []
        for tmpl in sts["spec"].get("volumeClaimTemplates") or []:
            _claim(spec, state, sts, tmpl, name, at)
            volumes.append({"name": tmpl["metadata"]["name"],
                            "persistentVolumeClaim": {"claimName": f"{tmpl['metadata']['name']}-{name}"}})
        err = f'pods "{name}" is forbidden: {self.admitted.error}' if self.admitted.error else None
        err = err or ledger(state).admit(self.admitted, name, at)
        if err:
            if self.failure is None:
                self.failure = (at, f"create Pod {name} in StatefulSet {md['name']} failed error: {err}")
            return None
        own = [v for v in self.admitted.spec.get("volumes") or [] if v["name"] not in {x["name"] for x in volumes}]
        patch = {"hostname": name, "volumes": own + volumes}
        if sts["spec"].get("serviceName"):
            patch["subdomain"] = sts["spec"]["serviceName"]
        labels = {"controller-revision-hash": self.revision, "statefulset.kubernetes.io/pod-name": name,
                  "apps.kubernetes.io/pod-index": str(i)}
        pod = new_pod(state, spec.seed, self.admitted, name, at, labels=labels, owner=owner_ref(sts),
                      spec_patch=patch)
        add_object(state, pod)
        emit(state, sts, "SuccessfulCreate", f"create Pod {name} in StatefulSet {md['name']} successful",
             first=at, component=STS_CONTROLLER)
        scheduler_of(spec, state).schedule(pod, at)
        return pod

    def running(self, pod: Obj | None) -> bool:
        """Whether a created pod got a node and will become ready (OrderedReady's gate)."""
        bound = scheduler_of(self.spec, self.state).pod_node
        return pod is not None and self.ready and pod["metadata"]["uid"] in bound

    def finish(self) -> None:
        if self.failure is not None:
            first, message = self.failure
            record_failures(self.state, self.sts, first, lambda _k: message, component=STS_CONTROLLER)


def _create_all(creator: _Creator, replicas: int, ordered: bool, at: datetime, step: Any) -> dict[int, Obj]:
    pods: dict[int, Obj] = {}
    for i in range(replicas):
        pod = creator.create(i, at)
        if pod is not None:
            pods[i] = pod
        if ordered and not creator.running(pod):
            break
        if ordered:
            at = at + step
    return pods


def reconcile_statefulset(spec: SimSpec, state: ClusterState, sts: Obj) -> list[tuple[datetime, Any]]:
    """Create the ordinal pods at start; return the rolling update to run at a template change."""
    md, sspec = sts["metadata"], sts["spec"]
    replicas = int(sspec.get("replicas", 1))
    ordered = sspec.get("podManagementPolicy", "OrderedReady") != "Parallel"
    change = spec.history.get(entity("StatefulSet", md["namespace"], md["name"]))
    template = sspec["template"]
    prev_template = template
    if change and change.previous:
        previous = clone(change.previous)
        previous.setdefault("kind", "StatefulSet")
        default_workload(previous)
        prev_template = previous["spec"]["template"]
    start = born(state, sts)
    old = _Creator(spec, state, sts, prev_template, start)
    step = step_for(spec, state, prev_template)
    pods = _create_all(old, replicas, ordered, start, step)
    revisions = state.extras.setdefault(REVISIONS_KEY, {})
    revisions[md["uid"]] = (old.revision, old.revision)
    if prev_template is template or ids.digest(prev_template) == ids.digest(template):
        old.finish()
        return []
    assert change is not None

    def later() -> None:
        new = _Creator(spec, state, sts, template, change.at)
        revisions[md["uid"]] = (old.revision, new.revision)
        at, sched = change.at, scheduler_of(spec, state)
        for i in sorted(pods, reverse=True):
            pod = pods[i]
            sched.forget(pod, at)
            ledger(state).release(old.admitted)
            remove_object(state, pod)
            emit(state, sts, "SuccessfulDelete", f"delete Pod {pod['metadata']['name']} in StatefulSet "
                 f"{md['name']} successful", first=at, component=STS_CONTROLLER)
            if not new.running(new.create(i, at)):
                break
            at = at + step_for(spec, state, template)
        old.finish()
        new.finish()

    return [(change.at, later)]

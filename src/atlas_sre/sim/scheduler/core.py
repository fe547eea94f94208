"""Stage 3: kube-scheduler. Binds pods to nodes, or explains in its own words why it cannot.

Placement is deterministic: filters as in `sched_filters`, then the best score (spread pods of one
owner, honour preferred affinity, least requested, node order as the final tie-break). Decisions
are taken as pods are created (the controllers stage asks, so a rollout knows whether its new
pods can run) and written onto the pods, with their events, by `finalize`. A pod that fits nowhere
may preempt lower-priority pods (`sched_preempt.py`); requests are the admitted pod's, so injected
sidecars count.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from datetime import datetime
from typing import Any

from atlas_sre.kube.requests import NON_ZERO_CPU_MILLI, NON_ZERO_MEMORY, pod_totals
from atlas_sre.sim.objects.index import index_of
from atlas_sre.sim.objects.meta import created_at
from atlas_sre.sim.scheduler import filters as f
from atlas_sre.sim.scheduler.nodes import (
    NodeState,
    Verdict,
    build_nodes,
    domain_nodes,
    dynamic_reasons,
    fits,
    static_verdict,
)
from atlas_sre.sim.scheduler.output import Decision, write_decisions
from atlas_sre.sim.scheduler.preempt import (
    PreemptionHooks,
    never_preempts,
    priority,
    take_followups,
    try_preempt,
)
from atlas_sre.sim.state import ClusterState, Obj, SimSpec

SCHEDULER_KEY = "scheduler"


class Scheduler:
    """Node bookkeeping plus one decision per pod uid."""

    def __init__(self, spec: SimSpec, state: ClusterState) -> None:
        self.spec, self.state = spec, state
        self.nodes: list[NodeState] = build_nodes(state)
        self.by_name = {n.name: n for n in self.nodes}
        self.decisions: dict[str, Decision] = {}
        self.pod_node: dict[str, NodeState] = {}
        self._static: dict[Any, list[Verdict]] = {}
        self.anti_pods: list[Obj] = []
        self.last_freed: datetime | None = None
        self.version = 0  # bumped on every bind/forget: cached failure messages are valid within one
        self._failures: dict[Any, tuple[int, str]] = {}
        self._heaps: dict[Any, list[tuple[tuple, int, int]]] = {}
        self._changes = sorted(n.before.at for n in self.nodes if n.before is not None)
        self.pods: dict[str, Obj] = {}  # bound pods by uid
        self.priorities: Counter[int] = Counter()  # priorities of bound pods (is preemption possible?)
        self.preemption: PreemptionHooks | None = None  # set by the controllers stage

    # -- filters -----------------------------------------------------------------------------
    def _static_for(self, pod: Obj, at: datetime) -> tuple[Any, list[Verdict]]:
        """(cache key, per-node static verdicts) for the filters that depend only on the pod spec.

        The key is the owning controller plus how many node changes (history) had happened by `at`.
        """
        owners = pod["metadata"].get("ownerReferences") or []
        key = None
        if owners and owners[0]["kind"] in ("ReplicaSet", "StatefulSet", "Job"):
            key = (owners[0]["uid"], bisect.bisect_right(self._changes, at))
        if key is not None and key in self._static:
            return key, self._static[key]
        pinned = f.prefilter_node_names(pod["spec"])
        out = [(n, *static_verdict(n, pod["spec"], pinned, at)) for n in self.nodes]
        if key is not None:
            self._static[key] = out
        return key, out

    def _claims_problem(self, pod: Obj) -> str | None:
        idx = index_of(self.state)
        ns = pod["metadata"]["namespace"]
        for vol in pod["spec"].get("volumes") or []:
            claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            pvc = idx.get("PersistentVolumeClaim", ns, claim)
            if pvc is None:
                return f'persistentvolumeclaim "{claim}" not found'
            if (pvc.get("status") or {}).get("phase") != "Bound":
                sc = idx.get("StorageClass", None, pvc["spec"].get("storageClassName") or "")
                if sc is None or sc.get("volumeBindingMode") != "WaitForFirstConsumer":
                    return "pod has unbound immediate PersistentVolumeClaims"
        return None

    def evaluate(self, pod: Obj, at: datetime) -> tuple[NodeState | None, str | None]:
        """(best node, None) or (None, FailedScheduling message) for a pod tried at `at`."""
        problem = self._claims_problem(pod)
        if problem:
            return None, f.fit_error(len(self.nodes), {}, prefilter=problem)
        requests = pod_totals(pod["spec"])[0]
        ctx = self._context(pod)
        key, static = self._static_for(pod, at)
        nz_cpu = requests.get("cpu") or NON_ZERO_CPU_MILLI
        nz_mem = requests.get("memory") or NON_ZERO_MEMORY
        simple = not any(ctx[k] for k in ("ports", "spread", "anti", "affinity", "preferred_anti", "existing_anti"))
        if simple:  # the common case: only resources change between pods, so skip building reasons
            node = self._pick(key, static, requests, ctx["owner"], nz_cpu, nz_mem)
            if node is not None:
                return node, None
            cached = self._failures.get(key) if key is not None else None
            if cached and cached[0] == self.version:
                return None, cached[1]
        reasons: dict[str, list[str]] = {}
        best = None
        for n, reason, weight, soft in static:
            if reason:
                reasons[n.name] = [reason]
                continue
            dyn = dynamic_reasons(self, n, pod, requests, ctx)
            if dyn:
                reasons[n.name] = dyn
                continue
            spread = (n.owners.get(ctx["owner"], 0) if ctx["owner"] else 0) + sum(
                1 for t in ctx["preferred_anti"] if n.name in domain_nodes(ctx, t, "_pref"))
            score = n.score_key(weight, soft, spread, nz_cpu, nz_mem)
            if best is None or score < best[0]:
                best = (score, n)
        if best is not None:
            return best[1], None
        message = f.fit_error(len(self.nodes), reasons)
        if simple and key is not None:
            self._failures[key] = (self.version, message)
        return None, message

    def _pick(self, key: Any, static: list[Verdict], requests: dict[str, int], owner: str | None,
              nz_cpu: int, nz_mem: int) -> NodeState | None:
        """The best feasible node for a simple pod, from a lazily refreshed heap per template.

        Scores only get worse as pods are added (less free room, more pods of the owner), so a
        stale entry at the top is re-scored and pushed back, and a node that no longer fits is
        dropped; `forget` (which frees room) clears the heaps.
        """
        def score(i: int) -> tuple:
            n, _, weight, soft = static[i]
            return n.score_key(weight, soft, n.owners.get(owner, 0) if owner else 0, nz_cpu, nz_mem)

        heap = self._heaps.get(key) if key is not None else None
        if heap is None:
            heap = [(score(i), v[0].version, i) for i, v in enumerate(static) if v[1] is None]
            heapq.heapify(heap)
            if key is not None:
                self._heaps[key] = heap
        while heap:
            _, version, i = heap[0]
            n = static[i][0]
            if version != n.version:
                heapq.heapreplace(heap, (score(i), n.version, i))
            elif not fits(n, requests):
                heapq.heappop(heap)
            else:
                return n
        return None

    def _context(self, pod: Obj) -> dict[str, Any]:
        """Per-pod data the dynamic filters share: owner uid, affinity terms, forbidden nodes."""
        spec = pod["spec"]
        owners = pod["metadata"].get("ownerReferences") or []
        ctx: dict[str, Any] = {"owner": owners[0]["uid"] if owners else None,
                               "anti": f.affinity_terms(spec, "podAntiAffinity"),
                               "affinity": f.affinity_terms(spec, "podAffinity"),
                               "preferred_anti": f.affinity_terms(spec, "podAntiAffinity", required=False),
                               "spread": [c for c in spec.get("topologySpreadConstraints") or []
                                          if c.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule"]}
        ctx["existing_anti"] = self._existing_anti_forbidden(pod) if self.anti_pods else set()
        ctx["ports"] = f.host_ports(spec)
        ctx["_sched"], ctx["_ns"] = self, pod["metadata"]["namespace"]
        return ctx

    def _existing_anti_forbidden(self, pod: Obj) -> set[str]:
        forbidden: set[str] = set()
        for other in self.anti_pods:
            node = self.pod_node.get(other["metadata"]["uid"])
            if node is None:
                continue
            for term in f.affinity_terms(other["spec"], "podAntiAffinity"):
                if f.term_selects(term, other["metadata"]["namespace"], pod):
                    key = term.get("topologyKey", "")
                    value = node.labels.get(key)
                    forbidden |= {n.name for n in self.nodes if value is not None and n.labels.get(key) == value}
        return forbidden

    # -- decisions ---------------------------------------------------------------------------
    def bind(self, pod: Obj, node: NodeState, at: datetime, by_scheduler: bool = True) -> None:
        """Account a pod on a node and remember the decision."""
        uid = pod["metadata"]["uid"]
        d = self.decisions.setdefault(uid, Decision())
        d.node, d.at, d.by_scheduler = node.name, at, by_scheduler
        node.add(pod, pod_totals(pod["spec"])[0])
        self.pod_node[uid] = node
        self.pods[uid] = pod
        self.priorities[priority(pod)] += 1
        self.version += 1
        if f.affinity_terms(pod["spec"], "podAntiAffinity"):
            self.anti_pods.append(pod)

    def schedule(self, pod: Obj, at: datetime) -> bool:
        """Decide for one new pod at time `at`; True if it got a node."""
        uid = pod["metadata"]["uid"]
        preset = pod["spec"].get("nodeName")
        if preset:
            node = self.by_name.get(preset)
            if node is not None:
                self.bind(pod, node, at, by_scheduler=False)
                return True
            self.decisions[uid] = Decision(by_scheduler=False)
            return False
        node, message = self.evaluate(pod, at)
        if node is not None:
            self.bind(pod, node, at)
            return True
        if self.preemption is not None and self.any_lower(priority(pod)):
            placed = try_preempt(self, pod, at, self._static_for(pod, at)[1], self._context(pod))
            if placed is not None:
                d = self.decisions[uid]
                # the cycle itself failed (FailedScheduling without a preemption summary), then bound
                d.failed_at, d.nominated = at, placed[0].name
                d.message = (message or "").split(" preemption: ")[0]
                return True
        self.decisions[uid] = Decision(failed_at=at, message=never_preempts(pod, message))
        return False

    def any_lower(self, prio: int) -> bool:
        """Whether some bound pod has a priority below `prio` (else preemption cannot help)."""
        return any(p < prio and n > 0 for p, n in self.priorities.items())

    def pods_on(self, node: NodeState) -> list[Obj]:
        """The pods bound to `node`, in binding order."""
        return [self.pods[uid] for uid, n in self.pod_node.items() if n is node]

    def forget(self, pod: Obj, at: datetime) -> None:
        """Release a deleted pod's node resources."""
        uid = pod["metadata"]["uid"]
        node = self.pod_node.pop(uid, None)
        if node is not None:
            self.pods.pop(uid, None)
            self.priorities[priority(pod)] -= 1
            node.remove(pod, pod_totals(pod["spec"])[0])
            self.last_freed = at
            self.version += 1
            self._heaps.clear()
            self.anti_pods = [p for p in self.anti_pods if p is not pod]
        self.decisions.pop(uid, None)

    def would_fit(self, pod: Obj, at: datetime) -> bool:
        """Whether the pod would be bound at `at` (no side effects)."""
        preset = pod["spec"].get("nodeName")
        if preset:
            return preset in self.by_name
        return self.evaluate(pod, at)[0] is not None

    def schedule_new(self) -> None:
        """Decide for every indexed pod that has no decision yet, in creation order."""
        for pod in index_of(self.state).list("Pod"):
            if pod["metadata"]["uid"] not in self.decisions:
                self.schedule(pod, created_at(self.state, pod))

    def retry_pending(self) -> None:
        """Pods refused before resources were freed get another try when they were."""
        if self.last_freed is None:
            return
        for pod in index_of(self.state).list("Pod"):
            d = self.decisions.get(pod["metadata"]["uid"])
            if d and d.node is None and d.message and d.failed_at and d.failed_at < self.last_freed:
                node, message = self.evaluate(pod, self.last_freed)
                if node is not None:
                    self.bind(pod, node, self.last_freed)
                else:
                    d.message = never_preempts(pod, message)

    def finalize(self) -> None:
        """Write nodeName, PodScheduled, IPs and scheduler events onto every decided pod."""
        write_decisions(self)


def scheduler_of(spec: SimSpec, state: ClusterState) -> Scheduler:
    """The state's scheduler (created from the current nodes on first use)."""
    sched = state.extras.get(SCHEDULER_KEY)
    if sched is None:
        sched = state.extras[SCHEDULER_KEY] = Scheduler(spec, state)
    return sched


def schedule(spec: SimSpec, state: ClusterState) -> None:
    """The scheduler stage: decide for pods not yet decided, retry, and write the results."""
    sched = scheduler_of(spec, state)
    sched.schedule_new()
    while followups := take_followups(state):  # replacements of pods preempted here
        for _at, action in sorted(followups, key=lambda item: item[0]):
            action()
    sched.retry_pending()
    sched.finalize()


"""Workload semantics: objects → controllers → scheduler → kubelet → endpoints → status → usage.

Stage-to-stage data lives in `state.extras`:
  index           ObjectIndex over every stored object (use `index_of(state)`, not a scan)
  registry        the image registry the stages use: the scenario's plus kind's baseline images
  scheduler       Scheduler (node bookkeeping; `pod_node` maps pod uid -> node)
  quota           QuotaLedger used for admission
  admission_mutators
                  mutating admission webhooks other rooms register (`podgen.register_mutator`): they
                  run on every pod before quota admission and the scheduler (Istio's injector)
  replica_runs / rollouts / sts_revisions / daemon_nodes / job_started / create_failures
                  controller records the status rollup reads
  hpa_rescaled    when each HPA last moved its target to a bound (HPA condition times)
  preempted       victim uid -> (when, preemptor uid, node) of scheduler preemptions

Time: objects a fault creates (`Change(at, previous=None)`) are stamped and reconciled at `at`;
edited objects exist from the start with generation 2 and roll out at `at`.
"""

from __future__ import annotations

from atlas_sre.sim.engine import Stage
from atlas_sre.sim.workloads.controllers import run_controllers
from atlas_sre.sim.workloads.endpoints import reconcile_endpoints
from atlas_sre.sim.workloads.hpa import reconcile_hpa
from atlas_sre.sim.workloads.index import ObjectIndex, add_object, index_of
from atlas_sre.sim.workloads.materialize import materialize
from atlas_sre.sim.workloads.nodelifecycle import mark_lost_pods
from atlas_sre.sim.workloads.rollup import rollup
from atlas_sre.sim.workloads.scheduler import schedule
from atlas_sre.sim.workloads.usage import rollup_node_usage

__all__ = ["ObjectIndex", "add_object", "index_of", "stages"]


def stages() -> list[Stage]:
    """The workload stages in order; the kubelet stage is included once its module exists."""
    out: list[Stage] = [materialize, run_controllers, schedule]
    try:
        from atlas_sre.sim.workloads.kubelet import kubelet_stage
    except ImportError:  # the kubelet stage is written separately; derive still runs without it
        pass
    else:
        out.append(kubelet_stage)
    out += [mark_lost_pods, reconcile_endpoints, rollup, reconcile_hpa, rollup_node_usage]
    return out

"""Workload semantics: manifests, controllers, endpoints, status rollups, quota, the HPA and node usage.

The engine (`sim/engine.py`) runs these stages around the scheduler and kubelet stages; see README.md.

Stage-to-stage data lives in `state.extras`:
  index           ObjectIndex over every stored object (`sim/objects/index.py`: use `index_of(state)`)
  registry        the image registry the stages use: the scenario's plus kind's baseline images
  scheduler       Scheduler (node bookkeeping; `pod_node` maps pod uid -> node)
  quota           QuotaLedger used for admission
  admission_mutators
                  mutating admission webhooks other rooms register (`podgen.register_mutator`): they
                  run on every pod before quota admission and the scheduler (Istio's injector)
  replica_runs / rollouts / sts_revisions / daemon_nodes / job_started / create_failures
                  controller records the status rollup reads
  job_runs / cron_runs / cron_skipped
                  the Job and CronJob controllers' records (pods, failures, how a Job ended)
  pod_deleted_at  pod uid -> when a controller deleted it (the kubelet stage stops it then, drops it)
  hpa_rescaled    when each HPA last moved its target to a bound (HPA condition times)
  preempted       victim uid -> (when, preemptor uid, node) of scheduler preemptions

Time: objects a fault creates (`Change(at, previous=None)`) are stamped and reconciled at `at`;
edited objects exist from the start with generation 2 and roll out at `at`.
"""

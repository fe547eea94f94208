"""Service-mesh and traffic semantics: Istio sidecars, request routing, access logs, metrics, alerts.

The engine (`sim/engine.py`) runs the mesh stages from `stages.py` among the workload stages:

    materialize*  run_controllers  schedule  kubelet_stage  mark_lost_pods  reconcile_endpoints
    rollup  mesh_traffic  reconcile_hpa  rollup_node_usage  mesh_alerts

(* wrapped so it also stores the Istio control plane when the scenario uses the mesh, and registers
the sidecar injector as a mutating admission webhook: pods carry their sidecar from creation.)

Outputs in `state.extras`: `registry` (with Istio's images), `mesh_metrics` (istio_requests_total
-like rows), `mesh_entrypoints` (what users saw per entry point), `mesh_load` (rps per pod and
container), `mesh_traffic` (the before/after ledgers), `alerts` (firing alerts). Logs go to
`state.logs` (istio-proxy access logs, app request and dependency-error lines).
"""

"""sim room: the simulated cluster and the read-only Kubernetes API that serves it.

Entry points (imported from their modules, so importing the API server does not load the engine):
`sim.engine.derive(spec)`, `sim.state.SimSpec` / `ClusterState`, `sim.api.serve.SimServer`,
`sim.api.server.make_server`, `sim.kubeconfig.write_kubeconfig`. The sub-rooms and their order
are in README.md.
"""

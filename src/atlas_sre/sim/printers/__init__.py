"""Server-side Table printers: what `kubectl get` prints, as one column list per kind (see README.md).

The entry point is `atlas_sre.sim.printers.table.to_table`.
"""

"""sim room: the simulated cluster and the read-only Kubernetes API that serves it.

Exports are resolved lazily so that importing one submodule (the API server, say) does not pull
in the whole engine; serving must start fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "SimServer": "atlas_sre.sim.serve",
    "serve_forever_cli": "atlas_sre.sim.serve",
    "make_server": "atlas_sre.sim.server",
    "write_kubeconfig": "atlas_sre.sim.kubeconfig",
    "derive": "atlas_sre.sim.engine",
    "ClusterState": "atlas_sre.sim.state",
    "SimSpec": "atlas_sre.sim.state",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'atlas_sre.sim' has no attribute {name!r}")
    return getattr(import_module(module), name)

"""The printer columns Istio's CRDs declare: what `kubectl get virtualservice` shows on a live mesh.

Data from istio/istio manifests/charts/base/files/crd-all.gen.yaml, in the CRD's own format
(`additionalPrinterColumns`): the API serves them inside the CustomResourceDefinition objects, and
`crd.crd_printer` turns them into tables.
"""

from __future__ import annotations

from atlas_sre.sim.printers.common import Obj
from atlas_sre.sim.printers.crd import AGE_COLUMN


def _pcol(name_: str, path: str, desc: str) -> Obj:
    """A string printer column as the CRD declares it."""
    return {"name": name_, "type": "string", "jsonPath": path, "description": desc}


# additionalPrinterColumns from istio/istio manifests/charts/base/files/crd-all.gen.yaml, keyed by kind.
# An empty list is a CRD without printer columns (the apiserver then shows NAME and AGE).
ISTIO_PRINTER_COLUMNS: dict[str, list[Obj]] = {
    "VirtualService": [
        _pcol(
            "Gateways", ".spec.gateways", "The names of gateways and sidecars that should apply these routes"
        ),
        _pcol("Hosts", ".spec.hosts", "The destination hosts to which traffic is being sent"),
        AGE_COLUMN,
    ],
    "DestinationRule": [
        _pcol("Host", ".spec.host", "The name of a service from the service registry"),
        AGE_COLUMN,
    ],
    "Gateway": [],
    "ServiceEntry": [
        _pcol("Hosts", ".spec.hosts", "The hosts associated with the ServiceEntry"),
        _pcol(
            "Location",
            ".spec.location",
            "Whether the service is external to the mesh or part of the mesh "
            "(MESH_EXTERNAL or MESH_INTERNAL)",
        ),
        _pcol(
            "Resolution", ".spec.resolution", "Service resolution mode for the hosts (NONE, STATIC, or DNS)"
        ),
        AGE_COLUMN,
    ],
    "Sidecar": [],
    "EnvoyFilter": [],
    "WorkloadEntry": [
        AGE_COLUMN,
        _pcol("Address", ".spec.address", "Address associated with the network endpoint."),
    ],
    "WorkloadGroup": [AGE_COLUMN],
    "ProxyConfig": [],
    "PeerAuthentication": [
        _pcol("Mode", ".spec.mtls.mode", "Defines the mTLS mode used for peer authentication."),
        AGE_COLUMN,
    ],
    "AuthorizationPolicy": [_pcol("Action", ".spec.action", "The operation to take."), AGE_COLUMN],
    "RequestAuthentication": [],
    "Telemetry": [AGE_COLUMN],
    "WasmPlugin": [AGE_COLUMN],
}

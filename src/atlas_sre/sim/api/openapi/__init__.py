"""OpenAPI v2 and v3 documents with the real Kubernetes and Istio schemas (see documents.py)."""

from atlas_sre.sim.api.openapi.documents import OpenAPI

__all__ = ["OpenAPI"]

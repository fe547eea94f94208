"""Deterministic identities: UIDs, generated names, IPs, hashes.

Everything a real cluster would randomise is derived from the seed and the object's identity, so
the same scenario always yields the same pod names, UIDs and IPs (byte-identical API answers).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from atlas_sre.kube.names import SAFE_ALPHABET

_NS = uuid.UUID("6f1c2a9e-4b1d-4c7e-9a51-0a7e5c3b2d10")
_SAFE = SAFE_ALPHABET  # Kubernetes' rand.SafeEncodeString alphabet: no vowels, no confusable digits


def digest(*parts: Any) -> bytes:
    """A stable hash of any JSON-able parts."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()


def uid(seed: int, kind: str, namespace: str | None, name: str) -> str:
    """A stable UUID for an object."""
    return str(uuid.uuid5(_NS, f"{seed}/{kind}/{namespace or ''}/{name}"))


def safe_suffix(n: int, *parts: Any) -> str:
    """`n` characters from the Kubernetes safe alphabet, derived from `parts`."""
    raw = digest(*parts)
    return "".join(_SAFE[b % len(_SAFE)] for b in raw[:n])


def pod_template_hash(seed: int, template: dict[str, Any]) -> str:
    """The 10-character `pod-template-hash` a Deployment stamps on its ReplicaSet."""
    return safe_suffix(10, seed, "template", template)


def resource_version(*parts: Any) -> str:
    """A plausible, stable resourceVersion."""
    return str(100000 + int.from_bytes(digest("rv", *parts)[:4], "big") % 900000)


def ip_in(prefix: str, index: int) -> str:
    """The `index`-th host address in a /16 such as `10.244`: never .0 or .255 in the last octet."""
    third, fourth = divmod(index, 254)
    return f"{prefix}.{third % 256}.{fourth + 1}"


def cluster_ip(seed: int, namespace: str, name: str) -> str:
    """A stable ClusterIP in 10.96.0.0/12."""
    raw = digest(seed, "svc", namespace, name)
    return f"10.96.{raw[0] % 256}.{1 + raw[1] % 254}"

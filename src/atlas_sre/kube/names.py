"""How Kubernetes names generated objects: the alphabet of its random suffixes.

Kubernetes draws pod-template hashes and pod name suffixes from `rand.SafeEncodeString`'s alphabet
(no vowels, no 0/1/3). The simulator generates names from it, and readers (the reference agents,
capsule generalisation) recognise generated suffixes by it: `checkout-7d9f8c6b5d-x2x4z` is a pod of
Deployment `checkout`, `redis-cache` is not.
"""

from __future__ import annotations

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# One character of that alphabet, as a regular-expression class.
SAFE_CHAR = f"[{SAFE_ALPHABET}]"

"""Kubernetes resource quantities (`500m`, `1.5Gi`, `2`) as floats, for quota comparisons.

Kept in the analyzers room (rather than borrowed from the simulator) so analyzers depend on nothing
but what the API returns.
"""

from __future__ import annotations

import re

_SUFFIX = {
    "": 1.0,
    "m": 1e-3,
    "u": 1e-6,
    "n": 1e-9,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}
_QUANTITY = re.compile(r"^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([a-zA-Z]*)$")


def parse_quantity(value: object) -> float:
    """The quantity as a number of base units; 0.0 for anything unparseable."""
    m = _QUANTITY.match(str(value).strip())
    if m is None or m.group(2) not in _SUFFIX:
        return 0.0
    return float(m.group(1)) * _SUFFIX[m.group(2)]

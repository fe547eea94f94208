"""Kubernetes resource quantities ("500m", "1.5Gi", "2"): one suffix table, parsing, canonical printing.

Every room that reads a quantity parses it here. Two typed readings share the suffix table:
`parse_quantity` (exact `Decimal`, lenient like the simulator has always been: the scheduler, quota,
the kubelet and the alerts compare these) and `parse_quantity_float` (the strict grammar the
analyzers use for quota comparisons, as floats). Each keeps the values its callers always got.
Messages print quantities the way `resource.Quantity.String()` does ("500m", "2", "512Mi", "1Gi"),
so printing lives here too. CPU is counted in millicores, everything else in plain units (bytes).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": Decimal(10**3),
            "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12), "P": Decimal(10**15),
            "E": Decimal(10**18)}
# Every suffix Kubernetes accepts and its exact multiplier ("" = no suffix).
MULTIPLIERS: dict[str, Decimal] = {"": Decimal(1), **{k: Decimal(v) for k, v in _BINARY.items()}, **_DECIMAL}
# The strict grammar: a signed decimal (optional exponent) and a suffix made of letters.
_STRICT = re.compile(r"^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([a-zA-Z]*)$")
_FLOAT_MULTIPLIERS = {k: float(v) for k, v in MULTIPLIERS.items()}


def parse_quantity(value: Any) -> Decimal:
    """A quantity ("500m", "1.5Gi", "2", 3) as a Decimal in base units; 0 when unparseable."""
    if value is None:
        return Decimal(0)
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    text = str(value).strip()
    try:
        for suffix, mult in _BINARY.items():
            if text.endswith(suffix):
                return Decimal(text[: -len(suffix)]) * mult
        if text and text[-1] in _DECIMAL and not text[-2:-1].isalpha():
            return Decimal(text[:-1]) * _DECIMAL[text[-1]]
        return Decimal(text)
    except InvalidOperation:
        return Decimal(0)


def parse_quantity_float(value: object) -> float:
    """The quantity as a float number of base units (strict grammar); 0.0 for anything unparseable.

    Computed as float(number) * float(multiplier), not through Decimal, so sums and comparisons
    round exactly as the analyzers' quota checks always have.
    """
    m = _STRICT.match(str(value).strip())
    if m is None or m.group(2) not in _FLOAT_MULTIPLIERS:
        return 0.0
    return float(m.group(1)) * _FLOAT_MULTIPLIERS[m.group(2)]


def cpu_milli(value: Any) -> int:
    """CPU in millicores (rounded up, as Kubernetes does for sub-milli values)."""
    q = parse_quantity(value) * 1000
    return int(q.to_integral_value(rounding="ROUND_CEILING"))


def to_int(value: Any) -> int:
    """Any non-CPU quantity (bytes, counts) as an integer, rounded up."""
    return int(parse_quantity(value).to_integral_value(rounding="ROUND_CEILING"))


def amount(resource: str, value: Any) -> int:
    """A quantity in this module's units for `resource` (millicores for CPU names)."""
    return _amount(resource, value if isinstance(value, (str, int)) else str(value))


@lru_cache(maxsize=4096)
def _amount(resource: str, value: str | int) -> int:
    """Memoised: ten thousand pods repeat a handful of quantity strings."""
    return cpu_milli(value) if is_cpu(resource) else to_int(value)


def is_cpu(resource: str) -> bool:
    """Whether a resource name (possibly quota-prefixed) measures CPU."""
    return resource in ("cpu", "requests.cpu", "limits.cpu")


def format_cpu(milli: int) -> str:
    """Millicores as Quantity.String() prints them: whole cores plain, otherwise `m`."""
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def format_bytes(n: int) -> str:
    """Bytes in canonical form: the largest binary suffix that divides exactly, else decimal."""
    if n == 0:
        return "0"
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        if n % _BINARY[suffix] == 0:
            return f"{n // _BINARY[suffix]}{suffix}"
    for suffix in ("E", "P", "T", "G", "M", "k"):
        mult = int(_DECIMAL[suffix])
        if n % mult == 0:
            return f"{n // mult}{suffix}"
    return str(n)


def format_amount(resource: str, value: int) -> str:
    """Print a quantity of `resource` canonically (CPU in cores/milli, counts plain, bytes suffixed)."""
    if is_cpu(resource):
        return format_cpu(value)
    if resource in ("pods", "services", "secrets", "configmaps", "persistentvolumeclaims") or resource.startswith(
        "count/"
    ):
        return str(value)
    return format_bytes(value)

"""Kubernetes resource quantities: parsing, canonical printing, and a pod's effective requests.

The scheduler, quota admission and the HPA all compare numbers, but messages print quantities
the way `resource.Quantity.String()` does ("500m", "2", "512Mi", "1Gi"), so both directions live
here. CPU is kept in millicores, everything else in plain units (bytes for memory).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": Decimal(10**3),
            "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12), "P": Decimal(10**15),
            "E": Decimal(10**18)}

# Kubernetes' scheduler scores pods without requests as if they asked for this much.
NON_ZERO_CPU_MILLI = 100
NON_ZERO_MEMORY = 200 * 2**20


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


def container_resources(container: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """(requests, limits) of one container, in this module's units."""
    res = container.get("resources") or {}
    req = {k: amount(k, v) for k, v in (res.get("requests") or {}).items()}
    lim = {k: amount(k, v) for k, v in (res.get("limits") or {}).items()}
    return req, lim


def pod_totals(pod_spec: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """A pod's effective (requests, limits): sum over containers, at least the largest init container.

    This is the rule the scheduler, the kubelet's admission and quota all use.
    """
    req: dict[str, int] = {}
    lim: dict[str, int] = {}
    for c in pod_spec.get("containers") or []:
        r, lm = container_resources(c)
        for k, v in r.items():
            req[k] = req.get(k, 0) + v
        for k, v in lm.items():
            lim[k] = lim.get(k, 0) + v
    for c in pod_spec.get("initContainers") or []:
        r, lm = container_resources(c)
        for k, v in r.items():
            req[k] = max(req.get(k, 0), v)
        for k, v in lm.items():
            lim[k] = max(lim.get(k, 0), v)
    for k, v in (pod_spec.get("overhead") or {}).items():
        req[k] = req.get(k, 0) + amount(k, v)
    return req, lim


def qos_class(pod_spec: dict[str, Any]) -> str:
    """Guaranteed, Burstable or BestEffort, as the apiserver computes `status.qosClass`."""
    containers = list(pod_spec.get("containers") or []) + list(pod_spec.get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        req, lim = container_resources(c)
        req = {k: v for k, v in req.items() if k in ("cpu", "memory")}
        lim = {k: v for k, v in lim.items() if k in ("cpu", "memory")}
        if req or lim:
            any_set = True
        if set(lim) != {"cpu", "memory"} or any(req.get(k, lim[k]) != lim[k] for k in lim):
            guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"

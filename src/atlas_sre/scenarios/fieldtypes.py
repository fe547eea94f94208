"""Leaf checks for manifest fields: integers in a range, ports, quantities, names, base64, regexes.

Each check returns None when the value is fine, else the message the loader prints after
`file:line: path:`. They mirror what the Kubernetes API server's validation refuses, because the
simulator computes with these values (a negative replica count, a port of 99999, memory "lots")
and must never meet one it cannot compute with.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from atlas_sre.kube.quantity import MULTIPLIERS
from atlas_sre.scenarios.limits import MAX_INT, MAX_NAME, MAX_REGEX, MAX_TEXT

try:  # Python 3.11+: the parser lives in `re` (the old top-level modules warn)
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

Check = Callable[[Any], "str | None"]
INT32 = 2**31 - 1

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_OBJECT_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._:@-]*[A-Za-z0-9])?$")  # RBAC names allow `system:...`
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUANTITY = re.compile(r"^\+?(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d{1,4}))?([a-zA-Z]*)$")
_PERCENT = re.compile(r"^\d{1,9}%$")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_int(value: Any) -> bool:
    """An integer as YAML writes one (a bool is not an integer, whatever Python says)."""
    return isinstance(value, int) and not isinstance(value, bool)


def integer(lo: int, hi: int) -> Check:
    """An integer within [lo, hi]."""
    def check(value: Any) -> str | None:
        if not is_int(value) or not lo <= value <= hi:
            return f"must be an integer from {lo} to {hi}, got {_shown(value)}"
        return None
    return check


def number(lo: float, hi: float) -> Check:
    """A finite number within [lo, hi]."""
    def check(value: Any) -> str | None:
        ok = (is_int(value) or isinstance(value, float)) and math.isfinite(value) and lo <= value <= hi
        return None if ok else f"must be a number from {lo:g} to {hi:g}, got {_shown(value)}"
    return check


def text(limit: int = MAX_TEXT) -> Check:
    """A string of at most `limit` characters."""
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"must be a string, got {_shown(value)}"
        return f"longer than {limit} characters" if len(value) > limit else None
    return check


def boolean(value: Any) -> str | None:
    """true or false."""
    return None if isinstance(value, bool) else f"must be true or false, got {_shown(value)}"


def one_of(*allowed: str) -> Check:
    """One of a fixed set of strings (an API enum)."""
    def check(value: Any) -> str | None:
        return None if value in allowed else f"must be one of {', '.join(allowed)}, got {_shown(value)}"
    return check


def pattern(regex: re.Pattern[str], limit: int, what: str) -> Check:
    """A string of at most `limit` characters matching `regex` (described as `what`)."""
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or len(value) > limit or not regex.match(value):
            return f"must be {what} of at most {limit} characters, got {_shown(value)}"
        return None
    return check


dns_label = pattern(_DNS_LABEL, 63, "a DNS label (lowercase letters, digits, '-')")
dns_subdomain = pattern(_DNS_SUBDOMAIN, MAX_NAME, "a DNS subdomain (lowercase letters, digits, '-', '.')")
object_name = pattern(_OBJECT_NAME, MAX_NAME, "a name (letters, digits, '-', '.', ':')")
port = integer(1, 65535)


def port_or_name(value: Any) -> str | None:
    """A port number or an IANA service name (a container port's `name`)."""
    if is_int(value):
        return port(value)
    if isinstance(value, str) and len(value) <= 15 and _PORT_NAME.match(value) and not value.isdigit():
        return None
    return f"must be a port number (1-65535) or a port name of at most 15 characters, got {_shown(value)}"


def int_or_percent(value: Any) -> str | None:
    """`maxSurge` / `maxUnavailable`: an integer or `N%`."""
    if is_int(value) and 0 <= value <= INT32:
        return None
    if isinstance(value, str) and _PERCENT.match(value):
        return None
    return f"must be a non-negative integer or a percentage like 25%, got {_shown(value)}"


def quantity(value: Any) -> str | None:
    """A Kubernetes quantity ("500m", "1.5Gi", 2), non-negative and at most 2^63-1 base units."""
    if is_int(value) or (isinstance(value, float) and math.isfinite(value)):
        value = str(value)
    if not isinstance(value, str):
        return f"must be a quantity like 500m or 1Gi, got {_shown(value)}"
    m = _QUANTITY.match(value.strip())
    if m is None or m.group(3) not in MULTIPLIERS or len(value) > 64:
        return f"must be a quantity like 500m or 1Gi, got {_shown(value)}"
    try:
        amount = Decimal(m.group(1) + (f"e{m.group(2)}" if m.group(2) else "")) * MULTIPLIERS[m.group(3)]
    except InvalidOperation:
        return f"must be a quantity like 500m or 1Gi, got {_shown(value)}"
    return None if amount <= MAX_INT else f"quantity {_shown(value)} is larger than 2^63-1"


def label_key(value: Any) -> str | None:
    """`prefix/name`: a DNS subdomain prefix (optional) and a name of at most 63 characters."""
    if not isinstance(value, str):
        return f"label key must be a string, got {_shown(value)}"
    prefix, _, name = value.rpartition("/")
    if prefix and dns_subdomain(prefix):
        return f"label key prefix {_shown(prefix)} must be a DNS subdomain"
    if len(name) > 63 or not _LABEL_NAME.match(name):
        return f"label key {_shown(value)} must be at most 63 letters, digits, '-', '_', '.'"
    return None


def label_value(value: Any) -> str | None:
    """A label value: empty, or at most 63 letters, digits, '-', '_', '.'."""
    if isinstance(value, str) and (value == "" or (len(value) <= 63 and _LABEL_NAME.match(value))):
        return None
    return f"label value must be at most 63 letters, digits, '-', '_', '.', got {_shown(value)}"


def base64_value(value: Any) -> str | None:
    """Base64 as `data` of a Secret or `binaryData` of a ConfigMap holds it."""
    if not isinstance(value, str):
        return f"must be a base64 string, got {_shown(value)}"
    try:
        base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return f"is not valid base64: {_shown(value)}"
    return None


_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)}
_ASSERTS = {sre_constants.ASSERT, sre_constants.ASSERT_NOT}


def _nested_repeat(items: Any, inside: bool) -> bool:
    """Whether a parsed pattern repeats something that itself repeats or branches."""
    for op, arg in items:
        if op in _REPEATS:
            if inside or _nested_repeat(arg[2], True):
                return True
        elif op == sre_constants.BRANCH:
            if inside or any(_nested_repeat(b, inside) for b in arg[1]):
                return True
        else:
            inner = arg[-1] if op == sre_constants.SUBPATTERN else arg[1] if op in _ASSERTS else None
            if inner is not None and _nested_repeat(inner, inside):
                return True
    return False


def regex(value: Any) -> str | None:
    """A regex the simulator evaluates: it compiles, and it cannot backtrack exponentially.

    Python's engine backtracks; a repeat over something that repeats or alternates (`(a+)+`,
    `(a|a)*`) can take exponential time on one short value, so such patterns are refused.
    """
    if not isinstance(value, str) or len(value) > MAX_REGEX:
        return f"must be a regex of at most {MAX_REGEX} characters, got {_shown(value)}"
    try:
        parsed = sre_parse.parse(value)
        re.compile(value)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"is not a valid regex: {str(exc)[:80]}"
    if _nested_repeat(parsed, False):
        return f"nested repetition in {_shown(value)} can take exponential time; write it without a repeated group"
    return None

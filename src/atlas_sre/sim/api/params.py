"""Integer query parameters read as the apiserver decodes them: Go's `strconv.ParseInt` into an int64.

Every numeric option (`limit`, `timeoutSeconds`, `sinceSeconds`, `tailLines`, `limitBytes`) goes
through `int64_param`, so a value Go cannot hold is the same 400 a real server gives ("value out
of range"), never an overflow deeper in (a 500 the agent cannot act on).
"""

from __future__ import annotations

import re

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
_INT = re.compile(r"[+-]?[0-9]+")  # what ParseInt(s, 10, 64) accepts: no spaces, no underscores


class ParamError(ValueError):
    """A query parameter the apiserver's parameter codec refuses (400 BadRequest, message verbatim)."""


def int64_param(query: dict[str, str], key: str) -> int | None:
    """The parameter as an int64, None when absent or empty; ParamError worded as strconv words it."""
    raw = query.get(key)
    if raw is None or raw == "":
        return None
    if not _INT.fullmatch(raw):
        raise ParamError(f'{key}: Invalid value: "{raw}": strconv.ParseInt: parsing "{raw}": invalid syntax')
    digits = raw.lstrip("+-").lstrip("0")
    value = int(raw) if len(digits) <= 19 else INT64_MAX + 1  # never parse a megabyte of digits
    if not INT64_MIN <= value <= INT64_MAX:
        raise ParamError(f'{key}: Invalid value: "{raw}": strconv.ParseInt: parsing "{raw}": value out of range')
    return value

"""Runtime semantics of the jq subset: values, ordering, indexing and the built-in functions.

Why separate from the parser: these rules are what makes `jq` output match the real jq 1.6/1.7
(`.a` on null is null, `.[]` on null is an error, `false`/`null` are falsy, comparisons order
null < false < true < numbers < strings < arrays < objects), and they are tested on their own.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

from atlas_sre.commands.regex import RegexError, compile_regex

Node = Callable[[Any], Iterator[Any]]


class JqError(Exception):
    """A runtime error, reported like jq's `jq: error (at <stdin>:0): ...` with exit status 5."""


MAX_OUTPUT_BYTES = 8_000_000


def check_size(value: Any, limit: int) -> None:
    """Refuse to print a value larger than `limit` bytes, measured without building it.

    Why: `[.,.,.,.,.,.,.,.,.,.] | [.,...] | [.,...]` shares one object a thousand times; Python
    holds it in kilobytes, but printing it would need gigabytes. Sizes are memoised per object, so
    the measure costs one visit per distinct object, however often it is shared.
    """
    memo: dict[int, int] = {}

    def size(v: Any) -> int:
        if isinstance(v, (dict, list)):
            key = id(v)
            if key not in memo:
                if isinstance(v, dict):
                    memo[key] = 2 + sum(len(k) + 4 + size(x) for k, x in v.items())
                else:
                    memo[key] = 2 + sum(2 + size(x) for x in v)
                if memo[key] > limit:
                    raise JqError(f"output larger than {limit} bytes; select fewer fields "
                                  "(e.g. .items[].metadata.name)")
            return memo[key]
        return len(v) + 2 if isinstance(v, str) else 8

    try:
        size(value)
    except RecursionError:
        raise JqError("value nested too deeply to print") from None


def jq_type(v: Any) -> str:
    """jq's type name of a JSON value."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    return {int: "number", float: "number", str: "string", list: "array", dict: "object"}[type(v)]


def truthy(v: Any) -> bool:
    """Only `false` and `null` are false in jq."""
    return v is not None and v is not False


def order_key(v: Any) -> tuple[Any, ...]:
    """jq's total order (and equality: 1 == 1.0, but 1 != true) as a sortable key."""
    if v is None or isinstance(v, bool):
        return (0 if v is None else 1 + int(v),)
    if isinstance(v, (int, float)):
        return (3, v)
    if isinstance(v, str):
        return (4, v)
    if isinstance(v, list):
        return (5, tuple(order_key(x) for x in v))
    return (6, tuple(sorted(v)), tuple(order_key(v[k]) for k in sorted(v)))


def index(v: Any, key: Any) -> Any:
    """`.key` / `.[n]`: null-tolerant, errors on type mismatch like jq."""
    if v is None:
        return None
    if isinstance(key, str) and isinstance(v, dict):
        return v.get(key)
    if isinstance(key, (int, float)) and not isinstance(key, bool) and isinstance(v, list):
        k = int(key)
        return v[k] if -len(v) <= k < len(v) else None
    shown = f'"{key}"' if isinstance(key, str) else jq_type(key)
    raise JqError(f"Cannot index {jq_type(v)} with {shown}")


def iterate(v: Any) -> Iterator[Any]:
    """`.[]` over an array or the values of an object."""
    if isinstance(v, list):
        return iter(v)
    if isinstance(v, dict):
        return iter(v.values())
    raise JqError(f"Cannot iterate over {jq_type(v)}" + ("" if v is None else f" ({json.dumps(v)})"))


def tostring(v: Any) -> str:
    """Strings as-is, everything else as compact JSON (used by interpolation and `join`)."""
    check_size(v, MAX_OUTPUT_BYTES)
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def _length(v: Any) -> Any:
    if v is None:
        return 0
    if isinstance(v, bool):
        raise JqError(f"boolean ({json.dumps(v)}) has no length")
    return abs(v) if isinstance(v, (int, float)) else len(v)


def _keys(v: Any) -> Any:
    if isinstance(v, dict):
        return sorted(v)
    if isinstance(v, list):
        return list(range(len(v)))
    raise JqError(f"{jq_type(v)} ({tostring(v)}) has no keys")


def _need(v: Any, kind: type, fn: str) -> Any:
    if not isinstance(v, kind) or isinstance(v, bool):
        raise JqError(f"{fn} cannot be applied to {jq_type(v)}")
    return v


def _to_entries(v: Any) -> list[dict[str, Any]]:
    return [{"key": k, "value": x} for k, x in _need(v, dict, "to_entries").items()]


def _sort(v: Any) -> list[Any]:
    return sorted(_need(v, list, "sort"), key=order_key)


def _unique(v: Any) -> list[Any]:
    out: list[Any] = []
    for x in _sort(v):
        if not out or order_key(out[-1]) != order_key(x):
            out.append(x)
    return out


@functools.lru_cache(maxsize=64)
def _regex(pattern: str) -> Any:
    """jq's regexes on the shared linear-time engine (RE2 first; see commands.regex)."""
    try:
        return compile_regex(pattern)
    except RegexError as exc:
        raise JqError(f"{pattern} (at offset 0) cannot be matched, as it is not a valid regex: {exc}") from exc


def _has(v: Any, k: Any) -> bool:
    if isinstance(v, dict) and isinstance(k, str):
        return k in v
    if isinstance(v, list) and isinstance(k, (int, float)) and not isinstance(k, bool):
        return 0 <= k < len(v)
    raise JqError(f"Cannot check whether {jq_type(v)} has a {jq_type(k)} key")


def _contains(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return all(k in a and _contains(a[k], bv) for k, bv in b.items())
    if isinstance(a, list) and isinstance(b, list):
        return all(any(_contains(x, y) for x in a) for y in b)
    if isinstance(a, str) and isinstance(b, str):
        return b in a
    if jq_type(a) != jq_type(b):
        raise JqError(f"{jq_type(a)} and {jq_type(b)} cannot have their containment checked")
    return a == b


NULLARY: dict[str, Callable[[Any], Any]] = {
    "length": _length,
    "keys": _keys,
    "not": lambda v: not truthy(v),
    "type": jq_type,
    "tostring": tostring,
    "to_entries": _to_entries,
    "sort": _sort,
    "unique": _unique,
    "first": lambda v: index(v, 0),
    "last": lambda v: index(v, -1),
    "ascii_downcase": lambda v: _need(v, str, "ascii_downcase").lower(),
}
UNARY: dict[str, Callable[[Any, Any], Any]] = {
    "has": _has,
    "test": lambda v, p: _regex(_need(p, str, "test")).search(_need(v, str, "test")) is not None,
    "contains": _contains,
    "startswith": lambda v, s: _need(v, str, "startswith").startswith(_need(s, str, "startswith")),
    "endswith": lambda v, s: _need(v, str, "endswith").endswith(_need(s, str, "endswith")),
    "join": lambda v, s: _need(s, str, "join").join("" if x is None else tostring(x) for x in iterate(v)),
}
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: order_key(a) == order_key(b),
    "!=": lambda a, b: order_key(a) != order_key(b),
    "<": lambda a, b: order_key(a) < order_key(b),
    "<=": lambda a, b: order_key(a) <= order_key(b),
    ">": lambda a, b: order_key(a) > order_key(b),
    ">=": lambda a, b: order_key(a) >= order_key(b),
}


def string_node(parts: list[str | Node]) -> Node:
    """A string literal with `\\(expr)` interpolations (one output per combination)."""

    def run(x: Any) -> Iterator[Any]:
        pools = [[p] if isinstance(p, str) else [tostring(v) for v in p(x)] for p in parts]
        return ("".join(combo) for combo in itertools.product(*pools))

    return run


def alternative(a: Node, b: Node, x: Any) -> Iterator[Any]:
    """`a // b`: the truthy outputs of a (errors ignored), else the outputs of b."""
    found = [v for v in attempt(a, x) if truthy(v)]
    return iter(found) if found else b(x)


def logic(a: Node, b: Node, x: Any, is_or: bool) -> Iterator[Any]:
    """`a and b` / `a or b` with jq's short-circuit per output of a."""
    for left in a(x):
        if truthy(left) == is_or:
            yield is_or
        else:
            yield from (truthy(r) for r in b(x))


def attempt(node: Node, x: Any) -> Iterator[Any]:
    """`expr?`: the outputs produced before the first error."""
    try:
        yield from node(x)
    except JqError:
        return

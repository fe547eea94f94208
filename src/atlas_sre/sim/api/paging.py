"""`limit` and `continue`: lists served in chunks, as the apiserver's etcd store pages them.

kubectl asks for `limit=500` on every `get` (and `--chunk-size=N` pages smaller); the official
clients page with `limit` + `_continue`. The token is the real one's shape: base64url (no padding)
of `{"v":"meta.k8s.io/v1","rv":<list resourceVersion>,"start":"<key after the last item>\\u0000"}`,
where the key is `name` inside one namespace and `namespace/name` across namespaces. The served
state never changes, so a token for the current resourceVersion always resumes consistently; one
for another resourceVersion is answered 410 `Expired`, as after an etcd compaction.

`resourceVersion=0` lists are served whole, limit or not: on a real 1.32 server they come from the
watch cache, which does not paginate (informers and `kubectl wait` list that way).
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from atlas_sre.sim.api.params import ParamError, int64_param

CONTINUE_VERSION = "meta.k8s.io/v1"
TOO_OLD = ("The provided continue parameter is too old to display a consistent list result. You can start a new "
           "list without the continue parameter, or use the continue token in this response to retrieve the "
           "remainder of the results. Continuing with the provided token results in an inconsistent list - "
           "objects that were created, modified, or deleted between the time the first chunk was returned and "
           "now may show up in the list.")

Key = tuple[str, str]  # (namespace or "", name): the order etcd lists a resource in


class PageError(ValueError):
    """A paging request the apiserver refuses: `code` 400 (BadRequest) or 410 (Expired)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Page:
    """The positions to serve and the list metadata that says what is left."""

    indexes: list[int]
    meta: dict[str, Any]


def _limit(query: dict[str, str]) -> int:
    try:
        return max(0, int64_param(query, "limit") or 0)
    except ParamError as exc:
        raise PageError(400, str(exc)) from None


def encode_continue(resource_version: str, key: Key, namespaced_scope: bool) -> str:
    """The token that resumes right after `key`."""
    namespace, name = key
    start = name if namespaced_scope or not namespace else f"{namespace}/{name}"
    raw = json.dumps({"v": CONTINUE_VERSION, "rv": int(resource_version), "start": start + "\x00"},
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_continue(token: str, namespace: str | None) -> tuple[int, Key]:
    """(resourceVersion, key of the last item served) from a token; PageError(400) as storage words it."""
    def invalid(reason: str) -> PageError:
        return PageError(400, f"invalid continue token: continue key is not valid: {reason}")
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise invalid("illegal base64 data at input byte 0") from None
    try:
        data = json.loads(raw)
    except ValueError:
        first = raw.lstrip()[:1].decode("latin-1") or " "
        raise invalid(f"invalid character {first!r} looking for beginning of value") from None
    if not isinstance(data, dict) or data.get("v") != CONTINUE_VERSION:
        raise invalid("server does not recognize this encoded version")
    rv, start = data.get("rv"), data.get("start")
    if not isinstance(rv, int) or rv <= 0:
        raise invalid(f"incorrect encoded start resourceVersion (version {CONTINUE_VERSION})")
    if not isinstance(start, str) or not start.rstrip("\x00"):
        raise invalid("encoded start key empty")
    start = start.rstrip("\x00")
    if namespace is None and "/" in start:
        ns, _, name = start.partition("/")
        return rv, (ns, name)
    return rv, (namespace or "", start)


def paginate(indexes: list[int], keys: list[Key], query: dict[str, str], resource_version: str,
             namespace: str | None, filtered: bool) -> Page:
    """The chunk of `indexes` (already selected, in key order) that `limit`/`continue` ask for.

    `keys[i]` is the (namespace, name) of object `i`; `filtered` (a label or field selector was
    given) drops `remainingItemCount`, which etcd cannot count without reading everything.
    """
    limit = _limit(query)
    token = query.get("continue") or ""
    if token and query.get("resourceVersion"):
        raise PageError(400, "resourceVersion: Forbidden: specifying resource version is not allowed when using "
                             "continue")
    if token:
        rv, after = decode_continue(token, namespace)
        if str(rv) != resource_version:
            raise PageError(410, TOO_OLD)
        indexes = indexes[bisect_right([keys[i] for i in indexes], after):]
    elif not limit or query.get("resourceVersion") == "0":
        return Page(indexes, {})
    if not limit or len(indexes) <= limit:
        return Page(indexes, {})
    chunk = indexes[:limit]
    meta: dict[str, Any] = {"continue": encode_continue(resource_version, keys[chunk[-1]], namespace is not None)}
    if not filtered:
        meta["remainingItemCount"] = len(indexes) - limit
    return Page(chunk, meta)

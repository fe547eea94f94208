"""Watch on a cluster that never changes: what a real apiserver's watch cache would send.

A watch is `GET <list path>?watch=true` (or the deprecated `/watch/` paths). The reply is a chunked
stream of newline-delimited `{"type":...,"object":...}` events. Nothing changes while a scenario is
served, so the events follow from the request alone:

- `resourceVersion` unset, `""` or `"0"`: one synthetic `ADDED` per current object (what `kubectl get
  pod x -w`, `kubectl wait` and the Python client's `watch.Watch().stream` read), then silence.
- `resourceVersion` at or after the list's: nothing (kubectl `get -w` and `rollout status` watch
  from the resourceVersion of the list they just printed).
- an older `resourceVersion`: an `ERROR` event, 410 `Expired` "too old resource version", as a watch
  cache that started at the current version answers; clients relist.
- `sendInitialEvents=true` (the WatchList protocol): the `ADDED` events, then a `BOOKMARK` annotated
  `k8s.io/initial-events-end: "true"`.
- `allowWatchBookmarks=true`: a `BOOKMARK` about every minute and 2 s before the timeout, as the
  cacher schedules them.

The stream ends at `timeoutSeconds` (default 1800 s, the apiserver's `--min-request-timeout`; at
most `limits.MAX_WATCH_SECONDS`) or when the client goes away. With a Table `Accept` (`kubectl get
-w`) each event's object is a one-row Table; only the first carries `columnDefinitions`, the rest
send `null` (the apiserver's `NoHeaders` after the first event).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from atlas_sre.sim.api.limits import MAX_WATCH_SECONDS
from atlas_sre.sim.api.params import ParamError, int64_param
from atlas_sre.sim.api.status import dumps
from atlas_sre.sim.resources import ResourceType

DEFAULT_TIMEOUT = 1800.0  # kube-apiserver --min-request-timeout
BOOKMARK_EVERY = 60.0  # the cacher's bookmarkFrequency
BOOKMARK_BEFORE_TIMEOUT = 2.0
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
NOT_OLDER_THAN = "NotOlderThan"

Obj = dict[str, Any]


class WatchError(ValueError):
    """A watch request the apiserver refuses before streaming: `code` 400 or 422, `reason` and message."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason = code, reason


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def is_watch(query: dict[str, str]) -> bool:
    return _truthy(query.get("watch"))


@dataclass(frozen=True)
class WatchOptions:
    """The parts of ListOptions a watch reads."""

    resource_version: str
    send_initial: bool | None
    bookmarks: bool
    timeout: float

    @classmethod
    def parse(cls, query: dict[str, str]) -> WatchOptions:
        """Validate as `validateWatchOptions` does (422 Invalid on ListOptions)."""
        try:
            timeout = float(min(int64_param(query, "timeoutSeconds") or 0, MAX_WATCH_SECONDS))
        except ParamError as exc:
            raise WatchError(400, "BadRequest", str(exc)) from None
        send = query.get("sendInitialEvents")
        send_initial = None if send in (None, "") else _truthy(send)
        match = query.get("resourceVersionMatch") or ""
        problems = []
        if send_initial is not None and match != NOT_OLDER_THAN:
            problems.append("resourceVersionMatch: Forbidden: sendInitialEvents requires setting "
                            f"resourceVersionMatch to {NOT_OLDER_THAN}")
        if match and send_initial is None:
            problems.append("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless "
                            "sendInitialEvents is provided")
        if match and match != NOT_OLDER_THAN:
            problems.append(f'resourceVersionMatch: Unsupported value: "{match}": supported values: '
                            f'"{NOT_OLDER_THAN}"')
        if problems:
            listed = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
            raise WatchError(422, "Invalid", f'ListOptions.meta.k8s.io "" is invalid: {listed}')
        rv = query.get("resourceVersion") or ""
        if rv not in ("", "0") and not (rv.isascii() and rv.isdigit()):
            raise WatchError(400, "BadRequest", f'resourceVersion: Invalid value: "{rv}": strconv.ParseUint: '
                                                f'parsing "{rv}": invalid syntax')
        if len(rv.lstrip("0")) > 20 or (rv and int(rv) >= 1 << 64):
            raise WatchError(400, "BadRequest", f'resourceVersion: Invalid value: "{rv}": strconv.ParseUint: '
                                                f'parsing "{rv}": value out of range')
        return cls(rv, send_initial, _truthy(query.get("allowWatchBookmarks")),
                   timeout if timeout > 0 else DEFAULT_TIMEOUT)


def event_line(kind: str, obj: Obj | bytes) -> bytes:
    """One framed event: `{"type":"ADDED","object":{...}}` and a newline (the JSON stream framer)."""
    body = obj if isinstance(obj, bytes) else dumps(obj)
    return b'{"type":"' + kind.encode() + b'","object":' + body + b"}\n"


def bookmark_object(rt: ResourceType, version: str, resource_version: str, initial_end: bool = False) -> Obj:
    """The empty object of the watched kind that carries a bookmark's resourceVersion."""
    kind = rt.served_from or rt.kind
    metadata: Obj = {"resourceVersion": resource_version}
    if initial_end:
        metadata["annotations"] = {INITIAL_EVENTS_END: "true"}
    if not rt.crd:
        metadata["creationTimestamp"] = None
    return {"kind": kind, "apiVersion": rt.group_version(version), "metadata": metadata}


def too_old(requested: str, current: str) -> Obj:
    """The `ERROR` event object for a watch from before the cache's window."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f"too old resource version: {requested} ({current})", "reason": "Expired", "code": 410}


def table_events(table: Obj) -> list[Obj]:
    """Split a rendered Table into the one-row Tables a Table watch sends (headers on the first only)."""
    out = []
    for i, row in enumerate(table.get("rows") or []):
        obj = row.get("object") or {}
        rv = (obj.get("metadata") or {}).get("resourceVersion", "")
        out.append({"kind": "Table", "apiVersion": table["apiVersion"], "metadata": {"resourceVersion": rv},
                    "columnDefinitions": table["columnDefinitions"] if i == 0 else None, "rows": [row]})
    return out


@dataclass
class WatchStream:
    """What one watch sends: `events` at once, then bookmarks on the cacher's schedule, until `timeout`."""

    events: list[bytes]
    timeout: float
    bookmark: bytes | None = None  # the periodic BOOKMARK line; None when bookmarks were not asked for

    def initial(self) -> list[bytes]:
        return self.events

    def later(self) -> Iterator[tuple[float, bytes]]:
        """(seconds after the start, chunk): every minute, and once 2 s before the timeout."""
        if self.bookmark is None:
            return
        last = self.timeout - BOOKMARK_BEFORE_TIMEOUT
        at = BOOKMARK_EVERY
        while at < last:
            yield at, self.bookmark
            at += BOOKMARK_EVERY
        if last >= 0:
            yield last, self.bookmark


def plan(options: WatchOptions, rt: ResourceType, version: str, current: str,
         objects: list[Obj | bytes]) -> WatchStream:
    """The stream for a watch over `objects` (already selected and encoded for the Accept asked for)."""
    rv = options.resource_version
    tick = event_line("BOOKMARK", bookmark_object(rt, version, current)) if options.bookmarks else None
    if options.send_initial is not None:
        events = [event_line("ADDED", o) for o in objects] if options.send_initial else []
        if options.bookmarks:
            events.append(event_line("BOOKMARK", bookmark_object(rt, version, current, initial_end=True)))
        return WatchStream(events, options.timeout, tick)
    if rv in ("", "0"):
        return WatchStream([event_line("ADDED", o) for o in objects], options.timeout, tick)
    if int(rv) >= int(current):
        return WatchStream([], options.timeout, tick)
    return WatchStream([event_line("ERROR", too_old(rv, current))], 0.0)

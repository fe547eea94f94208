"""`pods/{name}/log`: container logs with the apiserver's and kubelet's own rules and errors.

The errors are evidence in their own right (`is waiting to start: trying and failing to pull
image` tells an agent the image never ran), so they follow the apiserver's container checks and
the kubelet's `validateContainerLogStatus` word for word. `follow=true` is answered with the log
as it stands and then the stream ends: kubectl prints it and exits instead of hanging.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from atlas_sre.sim.api.params import ParamError, int64_param
from atlas_sre.sim.api.status import TEXT, Response, bad_request
from atlas_sre.sim.clock import UTC, parse_time

Obj = dict[str, Any]
DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"
_SINCE_MAX = 10**9 * 30  # ~950 years back: before any log line, inside datetime's range


class LogError(ValueError):
    """A request the kubelet or the apiserver would refuse (400, message verbatim)."""


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def rfc3339_nano(t: datetime) -> str:
    """Go's RFC3339Nano: fractional seconds with trailing zeros trimmed (none when zero)."""
    t = t.astimezone(UTC)
    frac = f"{t.microsecond:06d}".rstrip("0")
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


def _container_names(pod: Obj) -> list[str]:
    spec = pod.get("spec") or {}
    return [c.get("name", "") for key in ("initContainers", "containers", "ephemeralContainers")
            for c in spec.get(key) or []]


def choose_container(pod: Obj, requested: str | None) -> str:
    """The apiserver's container check (plus kubectl's default-container annotation)."""
    name = pod["metadata"]["name"]
    names = _container_names(pod)
    if requested:
        if requested not in names:
            raise LogError(f"container {requested} is not valid for pod {name}")
        return requested
    main = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
    default = ((pod["metadata"].get("annotations") or {}).get(DEFAULT_CONTAINER))
    if default in names:
        return str(default)
    if len(main) == 1:
        return main[0]
    if not main:
        raise LogError(f"a container name must be specified for pod {name}")
    raise LogError(f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]")


def _container_status(pod: Obj, container: str) -> Obj | None:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or []:
            if cs.get("name") == container:
                return cs
    return None


def stream_key(pod: Obj, container: str, previous: bool) -> bool:
    """Which stream the kubelet reads (True: the previous instance), or LogError as it refuses."""
    name = pod["metadata"]["name"]
    cs = _container_status(pod, container)
    if cs is None:
        raise LogError(f'container "{container}" in pod "{name}" is not available')
    state, last = cs.get("state") or {}, (cs.get("lastState") or {}).get("terminated")
    if previous:
        if not last:
            raise LogError(f'previous terminated container "{container}" in pod "{name}" not found')
        return True
    if state.get("running") or state.get("terminated"):
        return False
    if last:  # waiting to restart (CrashLoopBackOff): the kubelet shows the last instance's log
        return True
    waiting = state.get("waiting")
    if waiting is not None:
        reason = waiting.get("reason", "")
        detail = {"ErrImagePull": "image can't be pulled",
                  "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
        raise LogError(f'container "{container}" in pod "{name}" is waiting to start: {detail}')
    raise LogError(f'container "{container}" in pod "{name}" is waiting to start - no logs yet')


def _int_param(query: dict[str, str], key: str, minimum: int) -> int | None:
    try:
        value = int64_param(query, key)
    except ParamError as exc:
        raise LogError(str(exc)) from None
    if value is not None and value < minimum:
        raise LogError(f"{key}: Invalid value: {value}: must be greater than {minimum - 1}")
    return value


StreamKey = tuple[str, str, str, bool]  # namespace, pod, container, previous
Streams = dict[StreamKey, list[Any]]


def index_logs(logs: dict[Any, list[Any]]) -> Streams:
    """`ClusterState.logs` keyed by plain tuples, each stream sorted by time (stable), built once."""
    return {(k.namespace, k.pod, k.container, k.previous): sorted(v, key=lambda line: line.ts)
            for k, v in logs.items()}


def render_log(clock: Any, streams: Streams, namespace: str, pod: Obj, query: dict[str, str]) -> Response:
    """The text/plain reply for `GET .../pods/{name}/log`, or a 400 Status."""
    try:
        return Response(200, _render(clock, streams, namespace, pod, query), TEXT)
    except LogError as exc:
        return bad_request(str(exc))


def _render(clock: Any, streams: Streams, namespace: str, pod: Obj, query: dict[str, str]) -> bytes:
    container = choose_container(pod, query.get("container"))
    if not (pod.get("spec") or {}).get("nodeName"):
        return b""  # not scheduled: the apiserver has no kubelet to ask and answers an empty log
    use_previous = stream_key(pod, container, _truthy(query.get("previous")))
    since_seconds = _int_param(query, "sinceSeconds", 1)
    tail = _int_param(query, "tailLines", 0)
    limit = _int_param(query, "limitBytes", 1)
    if since_seconds is not None and query.get("sinceTime"):
        raise LogError("at most one of `sinceTime` or `sinceSeconds` may be specified")
    lines = _stream(streams, namespace, pod["metadata"]["name"], container, use_previous,
                    prefer_current=not _truthy(query.get("previous")))
    since: datetime | None = None
    if since_seconds is not None:  # further back than any date: every line (not an overflow)
        since = clock.now - timedelta(seconds=min(since_seconds, _SINCE_MAX))
    elif query.get("sinceTime"):
        try:
            since = parse_time(str(query["sinceTime"]))
        except ValueError:
            raise LogError(f"sinceTime: Invalid value: {query['sinceTime']!r}: must be RFC3339") from None
    rendered = [(clock.at(line.ts), line.text) for line in lines]
    if since is not None:
        rendered = [(t, text) for t, text in rendered if t >= since]
    if tail is not None:
        rendered = rendered[-tail:] if tail else []
    stamps = _truthy(query.get("timestamps"))
    body = "".join(f"{rfc3339_nano(t)} {text}\n" if stamps else f"{text}\n" for t, text in rendered).encode()
    return body[:limit] if limit is not None else body


def _stream(streams: Streams, namespace: str, pod: str, container: str, previous: bool,
            prefer_current: bool) -> list[Any]:
    """The lines to serve. A restarting container's last instance may be filed under either key."""
    if previous and prefer_current:
        current = streams.get((namespace, pod, container, False))
        if current:
            return current
    return streams.get((namespace, pod, container, previous), [])

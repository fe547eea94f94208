"""Repeated controller failures (FailedCreate) as the event recorder really stores them.

A controller whose pod create is refused retries with per-item exponential back-off (5ms doubling
up to 1000s). Each refusal names a freshly generated pod, so messages differ; client-go's event
correlator keeps the first nine distinct messages of a 10-minute window as separate events and
folds the rest into one "(combined from similar events): ..." event whose count keeps growing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from atlas_sre.sim.events import emit
from atlas_sre.sim.state import ClusterState, Obj

FAILURES_KEY = "create_failures"
_BASE = timedelta(milliseconds=5)
_MAX = timedelta(seconds=1000)
_WINDOW = timedelta(minutes=10)
_MAX_DISTINCT = 10


@dataclass
class CreateFailure:
    """The last refusal of a controller's creates: what the ReplicaFailure condition reports."""

    first: datetime
    last: datetime
    message: str


def retry_times(start: datetime, until: datetime) -> list[datetime]:
    """When a controller retries a refused create, from `start` to `until` (rate-limited queue)."""
    times, t, delay = [], start, _BASE
    while t <= until:
        times.append(t)
        t = t + delay
        delay = min(delay * 2, _MAX)
    return times


def record_failures(
    state: ClusterState,
    obj: Obj,
    start: datetime,
    message_at: Callable[[int], str],
    *,
    component: str,
    reason: str = "FailedCreate",
) -> CreateFailure:
    """Emit the events of a create refused from `start` until observation; returns the last refusal.

    `message_at(k)` is the event message of the k-th attempt (it names that attempt's pod).
    """
    times = retry_times(start, state.clock.observe_at)
    singles: dict[str, list] = {}
    combined: list | None = None
    window: set[str] = set()
    previous: datetime | None = None
    message = ""
    for k, t in enumerate(times):
        message = message_at(k)
        if previous is not None and t - previous > _WINDOW:
            window = set()
        previous = t
        window.add(message)
        if len(window) < _MAX_DISTINCT:
            entry = singles.setdefault(message, [t, t, 0])
            entry[1], entry[2] = t, entry[2] + 1
        elif combined is None:
            combined = [t, t, 1, message]
        else:
            combined[1], combined[2], combined[3] = t, combined[2] + 1, message
    for msg, (first, last, count) in singles.items():
        emit(state, obj, reason, msg, first=first, last=last, count=count, type_="Warning", component=component)
    if combined is not None:
        first, last, count, msg = combined
        emit(state, obj, reason, f"(combined from similar events): {msg}", first=first, last=last, count=count,
             type_="Warning", component=component, name_salt="combined")
    failure = CreateFailure(start, times[-1] if times else start, message)
    state.extras.setdefault(FAILURES_KEY, {})[obj["metadata"]["uid"]] = failure
    return failure


def failure_of(state: ClusterState, obj: Obj) -> CreateFailure | None:
    """The recorded create failure of a controller object, if any."""
    return state.extras.get(FAILURES_KEY, {}).get(obj["metadata"].get("uid"))


def strip_prefix(message: str) -> str:
    """The apiserver error inside an event message ("Error creating: X" -> "X")."""
    for prefix in ("Error creating: ",):
        if message.startswith(prefix):
            return message[len(prefix):]
    if " failed error: " in message:
        return message.split(" failed error: ", 1)[1]
    return message

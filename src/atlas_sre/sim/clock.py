"""The simulated clock.

Every derived time is computed in *scenario time* (the scenario's `clock`), then shifted onto an
*anchor* when rendered. Serving with the wall-clock anchor makes kubectl's client-side ages
("x31 over 40m") read true; serving with a fixed anchor makes every byte reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

UTC = timezone.utc


def parse_time(value: str | datetime) -> datetime:
    """Parse an RFC 3339 time (the `Z` suffix included) into an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SimClock:
    """Scenario start, fault and observation instants, and the anchor the observation maps to.

    `live`: the anchor is the wall clock at derivation, so the served present keeps moving with
    the wall clock (table ages advance, as kubectl's own do); otherwise it stays at the anchor.
    """

    start: datetime
    fault_at: datetime
    observe_at: datetime
    anchor: datetime | None = None
    live: bool = False

    @property
    def shift(self) -> timedelta:
        """Offset added to every scenario time when rendered (zero without an anchor)."""
        return (self.anchor - self.observe_at) if self.anchor else timedelta(0)

    @property
    def now(self) -> datetime:
        """The rendered present: what ages in tables are measured against."""
        return self.observe_at + self.shift

    def at(self, t: datetime) -> datetime:
        """A scenario time as a rendered (anchored) time."""
        return t + self.shift

    def iso(self, t: datetime) -> str:
        """A scenario time as Kubernetes writes timestamps: RFC 3339, seconds, `Z`."""
        return self.at(t).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def iso_micro(self, t: datetime) -> str:
        """MicroTime, as in `Event.eventTime`."""
        return self.at(t).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def anchored(self, anchor: datetime | None, live: bool = False) -> SimClock:
        """The same clock mapped onto another anchor (`live`: that anchor is the wall clock now)."""
        return SimClock(self.start, self.fault_at, self.observe_at, anchor, live)


def human_duration(d: timedelta) -> str:
    """Kubernetes' `duration.HumanDuration`, as used for AGE columns ("5m", "3h2m", "12d")."""
    return human_seconds(int(d.total_seconds()))


def human_seconds(seconds: int) -> str:
    """`human_duration` of a whole number of seconds (Go truncates the duration toward zero)."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return _two_units(minutes, "m", seconds % 60, "s")
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        return _two_units(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return _two_units(hours // 24, "d", hours % 24, "h")
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        return _two_units(hours // 24 // 365, "y", (hours // 24) % 365, "d")
    return f"{hours // 24 // 365}y"


def _two_units(big: int, big_unit: str, small: int, small_unit: str) -> str:
    """`3h2m`, or `3h` when the smaller unit is zero (HumanDuration drops a zero remainder)."""
    return f"{big}{big_unit}{small}{small_unit}" if small else f"{big}{big_unit}"

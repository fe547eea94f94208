"""Ages measured when a Table is served, not when it is built.

Why: kubectl computes the ages of `describe` and `kubectl events` itself, against its own clock,
while the AGE / LAST SEEN / RESTARTS "(x ago)" / DURATION cells of `kubectl get` come from the
server. A table built once and cached would keep the instant it was built and drift away from
every client-side view. A live server therefore builds each table once with `LiveNow`: every age
cell holds a placeholder naming its start instant, and `AgeTemplate.render` fills in the ages for
the instant of each request. The row building (the expensive part) stays cached; a request costs
one pass over the placeholders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from atlas_sre.sim.clock import UTC, human_duration, human_seconds

# An invisible separator around the start instant (µs since the epoch): it cannot occur in
# object data a scenario writes, and JSON keeps it as is (the API writes UTF-8, not \u escapes).
MARK = "\u2063"
_TOKEN = re.compile(f"{MARK}(-?[0-9]+){MARK}".encode())
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LiveNow(datetime):
    """A `now` asking the printers for age placeholders; its own value is the build instant."""

    @classmethod
    def of(cls, now: datetime) -> LiveNow:
        aware = now if now.tzinfo else now.replace(tzinfo=UTC)
        return cls.fromtimestamp(aware.timestamp(), tz=UTC)


def _micros(t: datetime) -> int:
    aware = t if t.tzinfo else t.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)


def _whole_seconds(micros: int) -> int:
    """Microseconds as whole seconds, truncated toward zero as `int(timedelta.total_seconds())`."""
    return micros // 1_000_000 if micros >= 0 else -(-micros // 1_000_000)


def elapsed(start: datetime, now: datetime) -> str:
    """HumanDuration from `start` to `now`, or a placeholder when `now` is a `LiveNow`."""
    if isinstance(now, LiveNow):
        return f"{MARK}{_micros(start)}{MARK}"
    aware = now if now.tzinfo else now.replace(tzinfo=UTC)
    return human_duration(aware - start)


@dataclass
class AgeTemplate:
    """A serialized reply whose age placeholders are filled in per request (per clock second)."""

    segments: list[bytes]
    starts: list[int]
    _last: tuple[int, bytes] | None = field(default=None, repr=False)
    _unique: frozenset[int] = field(default=frozenset(), repr=False)

    def __post_init__(self) -> None:
        self._unique = frozenset(self.starts)  # objects created together share one age

    @classmethod
    def parse(cls, body: bytes) -> AgeTemplate | None:
        """The template of `body`; None when it holds no placeholder (nothing to re-render)."""
        parts = _TOKEN.split(body)
        if len(parts) == 1:
            return None
        return cls(parts[0::2], [int(p) for p in parts[1::2]])

    def render(self, now: datetime) -> bytes:
        """The body with every age measured at `now` (whole seconds, as kubectl's clock ticks)."""
        second = _micros(now) // 1_000_000
        last = self._last
        if last is not None and last[0] == second:
            return last[1]
        now_us = second * 1_000_000
        ages = {s: human_seconds(_whole_seconds(now_us - s)).encode() for s in self._unique}
        out: list[bytes] = [b""] * (2 * len(self.starts) + 1)
        out[0::2] = self.segments
        out[1::2] = [ages[s] for s in self.starts]
        body = b"".join(out)
        self._last = (second, body)
        return body

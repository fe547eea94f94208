"""Cron schedules as the CronJob controller reads them (robfig/cron's standard parser).

Five fields (minute hour day-of-month month day-of-week) with `*`, `?`, lists, ranges, steps and
month/day names, the `@hourly`-style descriptors, and a `CRON_TZ=`/`TZ=` prefix. As in cron, when
both day fields are restricted a day matches either. Times are evaluated in the CronJob's
`spec.timeZone` (UTC when unset, as kind's controller-manager runs).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atlas_sre.sim.clock import UTC

_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


class CronError(ValueError):
    """A schedule the controller could not parse (it records `UnparseableSchedule`)."""


def _value(text: str, names: dict[str, int]) -> int:
    low = text.lower()
    if low in names:
        return names[low]
    if not text.isdigit():
        raise CronError(f"failed to parse int from {text}")
    return int(text)


def _field(text: str, lo: int, hi: int, names: dict[str, int]) -> tuple[set[int], bool]:
    """The values one field allows, and whether it was a bare `*`/`?` (unrestricted)."""
    out: set[int] = set()
    star = False
    for part in text.split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step <= 0:
            raise CronError(f"step of range should be a positive number: {part}")
        if rng in ("*", "?"):
            a, b = lo, hi
            star = star or not step_text
        elif "-" in rng:
            first, last = rng.split("-", 1)
            a, b = _value(first, names), _value(last, names)
        else:
            a = _value(rng, names)
            b = hi if step_text else a
        if a < lo or b > hi or a > b:
            raise CronError(f"end of range ({b}) above maximum ({hi}): {part}" if b > hi
                            else f"beginning of range ({a}) below minimum ({lo}): {part}")
        out |= set(range(a, b + 1, step))
    if names is _DAYS and 7 in out:
        out = (out - {7}) | {0}
    return out, star


class Schedule:
    """A parsed schedule: `times(after, until)` lists the activations in (after, until]."""

    def __init__(self, text: str, time_zone: str | None = None) -> None:
        spec = text.strip()
        tz_name = time_zone
        if spec.startswith(("CRON_TZ=", "TZ=")):
            head, _, spec = spec.partition(" ")
            tz_name = head.split("=", 1)[1]
        spec = _DESCRIPTORS.get(spec.strip(), spec.strip())
        fields = spec.split()
        if len(fields) != 5:
            raise CronError(f"expected exactly 5 fields, found {len(fields)}: {text}")
        try:
            self.tz = ZoneInfo(tz_name) if tz_name else UTC
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CronError(f"unknown time zone {tz_name}") from exc
        names = ({}, {}, {}, _MONTHS, _DAYS)
        parsed = [_field(f, lo, hi, n) for f, (lo, hi), n in zip(fields, _BOUNDS, names, strict=True)]
        (self.minutes, _), (self.hours, _), (self.dom, dom_star), (self.months, _), (self.dow, dow_star) = parsed
        self.dom_star, self.dow_star = dom_star, dow_star

    def _day_matches(self, t: datetime) -> bool:
        dom_ok = t.day in self.dom
        dow_ok = (t.weekday() + 1) % 7 in self.dow
        if self.dom_star or self.dow_star:
            return dom_ok and dow_ok
        return dom_ok or dow_ok

    def matches(self, t: datetime) -> bool:
        """Whether the minute starting at `t` (any zone) is an activation."""
        local = t.astimezone(self.tz)
        return (local.minute in self.minutes and local.hour in self.hours and local.month in self.months
                and self._day_matches(local))

    def times(self, after: datetime, until: datetime) -> list[datetime]:
        """Activations strictly after `after` and at or before `until` (UTC, whole minutes)."""
        t = after.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        out = []
        while t <= until:
            if self.matches(t):
                out.append(t)
            t += timedelta(minutes=1)
        return out

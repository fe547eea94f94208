"""Timestamps inside log lines written from the scenario's templates, moved onto the served timeline.

A template may carry its own time: `{time}` (the line's own time), or a literal timestamp written
in scenario time (`2026-11-26T09:20:01Z ERROR ...`). The line's leading stamp (the first
timestamp, at the start of the line, after `[`, or as a `time`/`ts`/`timestamp` field) is the
moment the process wrote it, so it becomes the line's own time; any other timestamp names a
moment in scenario time (a certificate's expiry, a last success) and is shifted as every other
derived time is. Formats are kept: RFC 3339 with or without fraction/offset, `2026-11-26 09:20:01`
(with `,123` or `.123`), and Go's `2026/11/26 09:20:01`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from atlas_sre.sim.clock import UTC, SimClock

_STAMP = re.compile(
    r"(?P<date>\d{4})(?P<sep1>[-/])(?P<mo>\d{2})(?P=sep1)(?P<d>\d{2})(?P<T>[T ])(?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?:(?P<fsep>[.,])(?P<frac>\d{1,9}))?(?P<tz>Z|[+-]\d{2}:?\d{2})?"
)
_FIELD = re.compile(r'(?:"(?:time|ts|timestamp|@timestamp)"\s*:\s*"|\b(?:time|ts|timestamp)=")$')
_TIME = "{time}"


def _parse(m: re.Match[str]) -> datetime:
    frac = m.group("frac") or ""
    micro = int((frac + "000000")[:6]) if frac else 0
    t = datetime(int(m.group("date")), int(m.group("mo")), int(m.group("d")), int(m.group("h")),
                 int(m.group("mi")), int(m.group("s")), micro, tzinfo=UTC)
    tz = m.group("tz")
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        t -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return t


def _format(m: re.Match[str], t: datetime) -> str:
    """`t` written the way the matched stamp was written (same separators, precision and zone)."""
    tz = m.group("tz")
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        t = t + sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    sep = m.group("sep1")
    text = f"{t.year:04d}{sep}{t.month:02d}{sep}{t.day:02d}{m.group('T')}{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    frac = m.group("frac")
    if frac:
        text += m.group("fsep") + f"{t.microsecond:06d}{'0' * 3}"[: len(frac)]
    return text + (tz or "")


def _leading(text: str, m: re.Match[str]) -> bool:
    head = text[: m.start()]
    if not head.strip(" [") or head.strip() == "[":
        return True
    return bool(_FIELD.search(head))


def served_text(text: str, clock: SimClock, at: datetime) -> str:
    """A template-written line as served: `{time}` and its leading stamp at `at`, other stamps shifted."""
    own = clock.at(at).astimezone(UTC)
    first = True

    def swap(m: re.Match[str]) -> str:
        nonlocal first
        try:
            written = _parse(m)
        except ValueError:
            return m.group(0)
        lead, first = first and _leading(text, m), False
        return _format(m, own if lead else clock.at(written).astimezone(UTC))

    if any(c.isdigit() for c in text):
        text = _STAMP.sub(swap, text)
    return text.replace(_TIME, clock.iso_micro(at)[:-4] + "Z") if _TIME in text else text

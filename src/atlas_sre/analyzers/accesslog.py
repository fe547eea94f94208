"""Parsing istio-proxy access-log lines (Istio's default TEXT format) for the runtime analyzers.

Field order (Envoy/Istio default): `[START] "METHOD PATH PROTO" CODE FLAGS DETAILS TERMINATION
"UPSTREAM_FAILURE" RX TX DURATION UPSTREAM_TIME "XFF" "UA" "REQUEST_ID" "AUTHORITY" "UPSTREAM_HOST"
UPSTREAM_CLUSTER ...`. Lines that are not access logs (Envoy start-up chatter) parse to None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_LINE = re.compile(
    r'^\[(?P<start>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<proto>[^"]*)" (?P<code>\d+) (?P<flags>\S+) '
    r'(?P<details>\S+) (?P<term>\S+) "(?P<ufr>[^"]*)" (?P<rx>\d+) (?P<tx>\d+) (?P<duration>\d+) (?P<ust>\S+) '
    r'"[^"]*" "[^"]*" "[^"]*" "(?P<authority>[^"]*)" "(?P<uhost>[^"]*)" (?P<cluster>\S+)'
)
_RBAC = re.compile(
    r"rbac_access_denied_matched_policy\[(?:ns\[(?P<ns>[^\]]*)\]-policy\[(?P<name>[^\]]*)\]"
    r"-rule\[(?P<rule>\d+)\]|(?P<none>none))\]"
)


@dataclass(frozen=True)
class AccessLine:
    """The fields of one access-log line the analyzers use."""

    method: str
    path: str
    code: int
    flags: str
    details: str
    duration_ms: int
    authority: str
    upstream_host: str
    cluster: str
    raw: str

    @property
    def inbound(self) -> bool:
        """Logged by the destination's sidecar (cluster `inbound|port||`)."""
        return self.cluster.startswith("inbound|")

    @property
    def outbound_host(self) -> str | None:
        """The FQDN of an `outbound|port|subset|fqdn` cluster, else None."""
        parts = self.cluster.split("|")
        return parts[3] if len(parts) == 4 and parts[0] == "outbound" else None

    def has_flag(self, flag: str) -> bool:
        return flag in self.flags.split(",")

    @property
    def rbac_policy(self) -> tuple[str, str, int] | None:
        """(namespace, policy, rule) of a DENY match; ("", "", -1) for `[none]` (no ALLOW matched)."""
        m = _RBAC.search(self.details)
        if m is None:
            return None
        if m.group("none"):
            return ("", "", -1)
        return (m.group("ns"), m.group("name"), int(m.group("rule")))


def parse_line(line: str) -> AccessLine | None:
    """One access-log line, or None when the line is something else."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    return AccessLine(
        method=m.group("method"),
        path=m.group("path"),
        code=int(m.group("code")),
        flags=m.group("flags"),
        details=m.group("details"),
        duration_ms=int(m.group("duration")),
        authority=m.group("authority"),
        upstream_host=m.group("uhost"),
        cluster=m.group("cluster"),
        raw=line.strip(),
    )


def parse_lines(lines: Iterable[str]) -> list[AccessLine]:
    return [a for a in (parse_line(ln) for ln in lines) if a is not None]


def percentile(values: list[int], q: float) -> int:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]

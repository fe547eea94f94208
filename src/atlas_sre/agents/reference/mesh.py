"""Mesh evidence for the reference student: Envoy access-log lines and Istio objects read as YAML.

Only command output is read: the istio-proxy log text the student fetched, and `-o yaml` lists it
asked for. The checks are the generic ones an Istio operator does by eye (which flag, towards
which destination; does the route's subset exist in the DestinationRule for that host).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import yaml

# Istio's default TEXT access-log format (HTTP; TCP lines carry "- - -" and code 0).
_LINE = re.compile(
    r'^\[[^\]]+\] "(?P<request>[^"]*)" (?P<code>\d{1,3}) (?P<flags>\S+) (?P<details>\S+) \S+ "[^"]*" '
    r'\S+ \S+ \S+ \S+ "[^"]*" "[^"]*" "[^"]*" "(?P<authority>[^"]*)" "(?P<upstream>[^"]*)" (?P<cluster>\S+)',
    re.MULTILINE)
_CLUSTER = re.compile(r"^(?P<dir>inbound|outbound)\|\d*\|[^|]*\|(?P<host>[^|\s]*)$")


@dataclass(frozen=True)
class AccessLine:
    """What matters of one access-log line for root-cause work."""

    code: int
    flags: tuple[str, ...]
    details: str
    direction: str  # inbound | outbound
    dest: str | None
    dest_ns: str | None


def _split_host(host: str, default_ns: str) -> tuple[str | None, str | None]:
    host = host.split(":")[0]
    if not host or host == "-":
        return None, None
    parts = host.split(".")
    if len(parts) >= 2 and (len(parts) == 2 or parts[2] == "svc"):
        return parts[0], parts[1]
    if len(parts) == 1:
        return parts[0], default_ns
    return None, None  # an external host name (e.g. a gateway's public host)


def parse_access_lines(text: str, caller_ns: str) -> list[AccessLine]:
    """Every access-log line of `text` with its destination Service (from the cluster, else authority)."""
    out = []
    for m in _LINE.finditer(text):
        cluster = _CLUSTER.match(m["cluster"])
        direction = cluster["dir"] if cluster else "outbound"
        dest, dest_ns = _split_host(cluster["host"], caller_ns) if cluster and cluster["host"] else (None, None)
        if dest is None and direction == "outbound":
            dest, dest_ns = _split_host(m["authority"], caller_ns)
        flags = tuple(f for f in m["flags"].split(",") if f and f != "-")
        out.append(AccessLine(int(m["code"]), flags, m["details"], direction, dest, dest_ns))
    return out


def failing(lines: list[AccessLine]) -> Counter[tuple[str, str, str, str]]:
    """Counts of (flag or 'via_upstream:<code>', dest, dest_ns, direction) over error lines."""
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for line in lines:
        if line.code and line.code < 400 and not line.flags:
            continue
        if not line.dest or not line.dest_ns:
            continue
        keys = list(line.flags) or ([f"via_upstream:{line.code}"] if line.details == "via_upstream" else [])
        for key in keys:
            counts[(key, line.dest, line.dest_ns, line.direction)] += 1
    return counts


# --- Istio objects from `-o yaml` -----------------------------------------------------------------------


def yaml_objects(text: str) -> list[dict[str, Any]]:
    """Objects of a `kubectl get ... -o yaml` output (a List or one object); empty if unreadable/truncated."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    if not isinstance(doc, dict):
        return []
    items = doc.get("items") if doc.get("kind", "").endswith("List") else [doc]
    return [i for i in items or [] if isinstance(i, dict) and i.get("kind")]


def _host_key(host: str, ns: str) -> tuple[str, str]:
    name, host_ns = _split_host(host, ns)
    return (name or host, host_ns or ns)


def missing_subsets(objects: list[dict[str, Any]]) -> list[tuple[str, str, str, list[str]]]:
    """(VirtualService entity, DestinationRule entity, subset, defined subsets) for every route to an undefined subset.

    Only hosts whose DestinationRule the student has seen are judged (absence of a listing is not
    absence of the object).
    """
    rules: dict[tuple[str, str], dict[str, Any]] = {}
    for dr in (o for o in objects if o["kind"] == "DestinationRule"):
        md = dr.get("metadata", {})
        rules[_host_key(str((dr.get("spec") or {}).get("host", "")), md.get("namespace", ""))] = dr
    out = []
    for vs in (o for o in objects if o["kind"] == "VirtualService"):
        md = vs.get("metadata", {})
        ns = md.get("namespace", "")
        for http in (vs.get("spec") or {}).get("http") or []:
            for route in http.get("route") or []:
                dest = route.get("destination") or {}
                subset = dest.get("subset")
                dr = rules.get(_host_key(str(dest.get("host", "")), ns))
                if not subset or dr is None:
                    continue
                names = [s.get("name") for s in (dr.get("spec") or {}).get("subsets") or []]
                if subset not in names:
                    drmd = dr.get("metadata", {})
                    out.append((f"{ns}/VirtualService/{md.get('name')}",
                                f"{drmd.get('namespace')}/DestinationRule/{drmd.get('name')}", subset, names))
    return out


def fault_injections(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(VirtualService entity, description) for routes with an abort fault configured."""
    out = []
    for vs in (o for o in objects if o["kind"] == "VirtualService"):
        md = vs.get("metadata", {})
        for http in (vs.get("spec") or {}).get("http") or []:
            abort = (http.get("fault") or {}).get("abort")
            if isinstance(abort, dict):
                pct = (abort.get("percentage") or {}).get("value", 100)
                out.append((f"{md.get('namespace')}/VirtualService/{md.get('name')}",
                            f"fault.abort httpStatus {abort.get('httpStatus')} for {pct}% of requests"))
    return out

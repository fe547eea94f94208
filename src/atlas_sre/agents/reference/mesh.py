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


# --- routes and gateways against what exists ------------------------------------------------------------


def _gateway_ref(ref: str, vs_ns: str) -> tuple[str, str]:
    """A VirtualService's `gateways:` entry → (namespace, name); `mesh` is not a Gateway object."""
    ns, _, name = ref.rpartition("/")
    return (ns or vs_ns, name)


def _host_matches(pattern: str, host: str) -> bool:
    """Istio host matching: exact, `*`, or a `*.suffix` wildcard on either side."""
    if pattern == "*" or host == "*" or pattern == host:
        return True
    return any(wild.startswith("*.") and other.endswith(wild[1:]) for wild, other in ((pattern, host), (host, pattern)))


def route_problems(objects: list[dict[str, Any]], services: dict[tuple[str, str], set[int]],
                   has_workload: Any) -> list[tuple[str, float, str]]:
    """(entity, confidence, evidence) for routes to a Service or port that does not exist.

    Judged only in namespaces whose Services the student has listed. A route to a missing host whose
    workload still runs means the Service went away (blame the Service); a host with no workload at
    all means the route names the wrong host (blame the VirtualService). `has_workload(name, ns)`
    answers from the pods the student has seen.
    """
    listed = {ns for ns, _ in services}
    out = []
    for vs in (o for o in objects if o["kind"] == "VirtualService"):
        md = vs.get("metadata", {})
        ns, entity = md.get("namespace", ""), f"{md.get('namespace', '')}/VirtualService/{md.get('name')}"
        spec = vs.get("spec") or {}
        for proto in ("http", "tcp", "tls"):
            for block in spec.get(proto) or []:
                for route in block.get("route") or []:
                    dest = route.get("destination") or {}
                    name, host_ns = _split_host(str(dest.get("host", "")), ns)
                    if not name or host_ns not in listed:
                        continue
                    ports = services.get((host_ns, name))
                    if ports is None:
                        if has_workload(name, host_ns):
                            out.append((f"{host_ns}/Service/{name}", 0.88,
                                        f"{entity} routes to host {name}, but no Service {name} exists in {host_ns} "
                                        f"while its pods run"))
                        else:
                            out.append((entity, 0.88, f"{entity} routes to host {dest.get('host')}: no such Service "
                                                      f"in {host_ns}"))
                        continue
                    number = (dest.get("port") or {}).get("number")
                    if number and ports and int(number) not in ports:
                        out.append((entity, 0.88, f"{entity} routes to {name} port {number}, but Service {name} "
                                                  f"exposes {', '.join(map(str, sorted(ports)))}"))
    return out


def gateway_problems(objects: list[dict[str, Any]], incident_text: str) -> list[tuple[str, float, str]]:
    """(entity, confidence, evidence) for VirtualServices bound to no existing Gateway, or to one serving none
    of their hosts. Judged only once a Gateway listing was read. For a host mismatch the side whose hosts
    the incident does not mention is the one that changed (the users' URL is the host that should work)."""
    gateways = {(o.get("metadata", {}).get("namespace", ""), o.get("metadata", {}).get("name", "")): o
                for o in objects if o["kind"] == "Gateway"}
    if not gateways:
        return []
    text = incident_text.lower()
    out = []
    for vs in (o for o in objects if o["kind"] == "VirtualService"):
        md = vs.get("metadata", {})
        ns, entity = md.get("namespace", ""), f"{md.get('namespace', '')}/VirtualService/{md.get('name')}"
        spec = vs.get("spec") or {}
        hosts = [str(h) for h in spec.get("hosts") or []]
        for ref in (str(g) for g in spec.get("gateways") or [] if g != "mesh"):
            key = _gateway_ref(ref, ns)
            gw = gateways.get(key)
            if gw is None:
                out.append((entity, 0.88, f"{entity} is bound to gateway {ref}, which does not exist"))
                continue
            served = [str(h).split("/")[-1] for s in (gw.get("spec") or {}).get("servers") or []
                      for h in s.get("hosts") or []]
            if served and not any(_host_matches(p, h) for p in served for h in hosts):
                gw_entity = f"{key[0]}/Gateway/{key[1]}"
                blame_vs = any(h.lower() in text for h in served if h != "*") and \
                    not any(h.lower() in text for h in hosts)
                out.append((entity if blame_vs else gw_entity, 0.88,
                            f"Gateway {key[1]} serves {', '.join(served)} but {entity} (bound to it) serves "
                            f"{', '.join(hosts)}"))
    return out


def tls_conflicts(objects: list[dict[str, Any]]) -> list[tuple[str, float, str]]:
    """(entity, confidence, evidence) for DestinationRules that turn TLS off towards a host whose namespace
    (or the whole mesh, via istio-system) requires STRICT mTLS."""
    strict = set()
    for pa in (o for o in objects if o["kind"] == "PeerAuthentication"):
        md, spec = pa.get("metadata", {}), pa.get("spec") or {}
        if str((spec.get("mtls") or {}).get("mode", "")).upper() == "STRICT" and not spec.get("selector"):
            strict.add(md.get("namespace", ""))
    out = []
    for dr in (o for o in objects if o["kind"] == "DestinationRule"):
        md, spec = dr.get("metadata", {}), dr.get("spec") or {}
        mode = str(((spec.get("trafficPolicy") or {}).get("tls") or {}).get("mode", "")).upper()
        _, host_ns = _split_host(str(spec.get("host", "")), md.get("namespace", ""))
        if mode == "DISABLE" and (host_ns in strict or "istio-system" in strict):
            out.append((f"{md.get('namespace')}/DestinationRule/{md.get('name')}", 0.88,
                        f"DestinationRule {md.get('name')} sets tls mode DISABLE towards {spec.get('host')}, "
                        f"where PeerAuthentication requires STRICT mTLS"))
    return out

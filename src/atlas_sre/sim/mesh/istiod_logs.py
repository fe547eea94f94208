"""What istiod (`discovery`) writes: its start-up, each proxy's xDS connection, and config pushes.

Everything is derived from the cluster istiod watches. At start it prints its flags, the mesh
config (the `istio` ConfigMap's `mesh` key, line by line as the one multi-line entry appears in
`kubectl logs`) and its servers. Each running proxy (sidecar or gateway) connects once its
`istio-proxy` container starts and istiod is ready, and receives CDS/EDS/LDS/RDS pushes whose
resource counts follow the Services, their ports and the DestinationRule subsets. Connections
are recycled every 30 minutes (`--keepaliveMaxServerConnectionAge 30m`), which is most of a real
istiod's steady chatter; only the last hour of it is kept (the kubelet rotates large logs). Each
change to mesh config or a Service in the scenario's history (and the initial read of every
Service) triggers a debounced full push ("Push debounce stable", "XDS: Pushing Services:N
ConnectedEndpoints:M").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from atlas_sre.sim import ids
from atlas_sre.sim.clock import SimClock, parse_time
from atlas_sre.sim.mesh.istio import BUILD
from atlas_sre.sim.mesh.world import PROXY, labels_of
from atlas_sre.sim.state import ClusterState, LogKey, Obj, SimSpec

CONTAINER = "discovery"
RECYCLE = timedelta(minutes=30)
KEEP = timedelta(hours=1)
MAX_LINES = 4000  # of connection and push lines per replica (large clusters)
_PUSHED_KINDS = {"Service", "VirtualService", "DestinationRule", "Gateway", "Sidecar", "PeerAuthentication",
                 "AuthorizationPolicy", "ServiceEntry", "EnvoyFilter", "Telemetry", "RequestAuthentication"}
_TCP_PREFIXES = ("tcp", "tls", "mongo", "redis", "mysql")
_FLAGS = ['--caCertFile=""', '--clusterAliases="[]"', '--domain="cluster.local"',
          '--keepaliveMaxServerConnectionAge="30m0s"', '--log_output_level="default:info"',
          '--meshConfig="./etc/istio/config/mesh"', '--monitoringAddr=":15014"', '--namespace="istio-system"',
          '--networksConfig="./etc/istio/config/meshNetworks"', '--tlsCertFile=""']


@dataclass(frozen=True)
class Proxy:
    """A running Envoy istiod serves: pod, namespace, IP, when its container started, role."""

    pod: str
    namespace: str
    ip: str
    started: datetime
    router: bool
    inbound_ports: int


@dataclass(frozen=True)
class XdsCounts:
    """Resources istiod pushes to one sidecar (clusters, endpoints, listeners, routes)."""

    clusters: int
    endpoints: int
    listeners: int
    routes: int


def _kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o.get("kind") == kind]


def _proxies(state: ClusterState) -> list[Proxy]:
    out = []
    for pod in _kind(state.objects, "Pod"):
        md, status = pod["metadata"], pod.get("status") or {}
        for cs in status.get("containerStatuses") or []:
            started = ((cs.get("state") or {}).get("running") or {}).get("startedAt")
            if cs.get("name") == PROXY and started:
                ports = sum(len(c.get("ports") or []) for c in (pod.get("spec") or {}).get("containers") or []
                            if c.get("name") != PROXY)
                out.append(Proxy(md["name"], md.get("namespace", "default"), status.get("podIP", ""),
                                 parse_time(started) - state.clock.shift,
                                 labels_of(pod).get("istio") == "ingressgateway", ports))
    return sorted(out, key=lambda p: (p.started, p.namespace, p.pod))


def _counts(state: ClusterState) -> XdsCounts:
    services = _kind(state.objects, "Service")
    ports = [p for s in services for p in (s.get("spec") or {}).get("ports") or []]
    subsets = 0
    for dr in _kind(state.objects, "DestinationRule"):
        host = str((dr.get("spec") or {}).get("host", "")).split(".")[0]
        ns = dr["metadata"].get("namespace")
        svc = next((s for s in services if s["metadata"]["name"] == host and s["metadata"].get("namespace") == ns),
                   None)
        per = len((svc or {}).get("spec", {}).get("ports") or []) or 1
        subsets += per * len((dr.get("spec") or {}).get("subsets") or [])
    numbers = {int(p.get("port", 0)) for p in ports}
    http = {int(p.get("port", 0)) for p in ports if not str(p.get("name", "")).startswith(_TCP_PREFIXES)}
    outbound = len(ports) + subsets
    return XdsCounts(outbound + 3, outbound, len(numbers) + 2, len(http))


def _stamp(clock: SimClock, t: datetime, text: str) -> tuple[datetime, str]:
    return t, f"{clock.iso_micro(t)}\t{text}"


def _startup(clock: SimClock, t0: datetime, mesh: str) -> tuple[list[tuple[datetime, str]], datetime]:
    """Flags, version, mesh config and servers; returns the lines and when istiod is ready."""
    texts = [f"info\tFLAG: {f}" for f in _FLAGS]
    texts += [f"info\tVersion {BUILD}", "info\tinitializing mesh configuration ./etc/istio/config/mesh"]
    lines = [_stamp(clock, t0 + timedelta(milliseconds=3 * i), t) for i, t in enumerate(texts)]
    t = t0 + timedelta(milliseconds=60)
    mesh_lines = mesh.strip().splitlines() or ["{}"]
    lines.append(_stamp(clock, t, f"info\tmesh configuration: {mesh_lines[0]}"))
    lines += [(t, text) for text in mesh_lines[1:]]  # one multi-line entry
    later = [
        "info\tinitializing mesh networks from ./etc/istio/config/meshNetworks",
        "info\tmesh networks configuration: networks: {}",
        "info\tUse self-signed certificate as the CA certificate",
        "info\tpkica\tLoad signing key and cert from existing secret istio-system/istio-ca-secret",
        "info\tinitializing secure discovery service",
        "info\tinitializing secure webhook server for istiod webhooks",
        "info\tinitializing sidecar injector",
        "info\tinitializing config validator",
        "info\tinitializing Istiod admin server",
        "info\tstarting discovery service",
        "info\tstarting HTTP service\taddr=[::]:8080",
        "info\tstarting gRPC discovery service\taddr=[::]:15010",
        "info\tstarting secure gRPC discovery service\taddr=[::]:15012",
        "info\tstarting webhook service\taddr=[::]:15017",
        "info\tkube\tPilot K8S CRD controller synced in 412.3ms",
        "info\twebhook patcher\tupdated webhook istio-sidecar-injector",
        "info\tvalidationController\tReconcile(enter): retry dry-run creation of invalid config",
        "info\tvalidationController\tEndpoint successfully rejected invalid config. Switching to fail-close.",
    ]
    base = t + timedelta(milliseconds=200)
    lines += [_stamp(clock, base + timedelta(milliseconds=40 * i), text) for i, text in enumerate(later)]
    ready = base + timedelta(milliseconds=40 * len(later) + 900)
    took = (ready - t0).total_seconds()
    lines.append(_stamp(clock, ready, f"info\tads\tAll caches have been synced up in {took:.2f}s, marking server "
                        "ready"))
    return lines, ready


def _kb(n: int, per: float) -> str:
    return f"{max(n, 1) * per:.1f}kB"


def _connect(clock: SimClock, at: datetime, proxy: Proxy, n: int, c: XdsCounts) -> list[tuple[datetime, str]]:
    """A proxy's ADS connection number `n` and the initial pushes it gets."""
    node = f"{proxy.pod}.{proxy.namespace}"
    clusters = c.clusters - 1 if proxy.router else c.clusters + proxy.inbound_ports
    listeners = 1 if proxy.router else c.listeners
    routes = 1 if proxy.router else c.routes
    texts = [
        f"info\tads\tADS: new connection for node:{node}-{n}",
        f"info\tads\tCDS: PUSH request for node:{node} resources:{clusters} size:{_kb(clusters, 0.9)}",
        f"info\tads\tEDS: PUSH request for node:{node} resources:{c.endpoints} size:{_kb(c.endpoints, 0.2)} "
        f"empty:0 cached:{c.endpoints}/{c.endpoints} filtered:0",
        f"info\tads\tLDS: PUSH request for node:{node} resources:{listeners} size:{_kb(listeners, 3.1)}",
        f"info\tads\tRDS: PUSH request for node:{node} resources:{routes} size:{_kb(routes, 0.8)} "
        f"cached:{max(routes - 1, 0)}/{routes}",
    ]
    return [_stamp(clock, at + timedelta(milliseconds=2 * i), t) for i, t in enumerate(texts)]


def _proxy_lines(spec: SimSpec, clock: SimClock, ready: datetime, proxies: list[Proxy],
                 c: XdsCounts) -> tuple[list[tuple[datetime, str]], list[datetime]]:
    """Connections, and their 30-minute recycling in the kept window; also each first connect time."""
    lines: list[tuple[datetime, str]] = []
    firsts = []
    horizon = clock.observe_at - KEEP
    for proxy in proxies:
        at = max(proxy.started + timedelta(milliseconds=1300), ready + timedelta(milliseconds=150))
        firsts.append(at)
        if at > clock.observe_at:
            continue
        lines += _connect(clock, at, proxy, 1, c)
        jitter = timedelta(seconds=int.from_bytes(ids.digest(spec.seed, "xds", proxy.pod)[:2], "big") % 180)
        k, t = 1, at + RECYCLE - jitter
        if t < horizon:  # skip whole recycles before the kept window
            k = int((horizon - at) / RECYCLE)
            t = at + RECYCLE * k - jitter
        while t <= clock.observe_at:
            if t >= horizon and t > at:
                port = 30000 + int.from_bytes(ids.digest(spec.seed, "port", proxy.pod, k)[:2], "big") % 30000
                lines.append(_stamp(clock, t, f'info\tads\tADS: "{proxy.ip}:{port}" {proxy.pod}.{proxy.namespace}-{k} '
                                    "terminated"))
                lines += _connect(clock, t + timedelta(milliseconds=180), proxy, k + 1, c)
            k, t = k + 1, t + RECYCLE
    return lines, firsts


def _pushes(spec: SimSpec, clock: SimClock, ready: datetime, firsts: list[datetime],
            services: int) -> list[tuple[datetime, str]]:
    """A debounced full push for every mesh-relevant change istiod saw."""
    t = ready + timedelta(milliseconds=100)
    lines = [  # the initial full push once every Service has been read
        _stamp(clock, t, f"info\tads\tPush debounce stable[1] {services} for config "
               f"ServiceEntry/default/kubernetes.default.svc.cluster.local and {services - 1} more configs: "
               "100.1ms since last change, 1.2s since last push, full=true"),
        _stamp(clock, t, f"info\tads\tXDS: Pushing Services:{services} ConnectedEndpoints:"
               f"{sum(1 for f in firsts if f <= t)} Version:{clock.iso(t)}/1"),
    ]
    changes = sorted((c.at, key) for key, c in spec.history.items()
                     if key.split("/")[-2] in _PUSHED_KINDS and ready < c.at <= clock.observe_at)
    for n, (at, key) in enumerate(changes, start=2):
        parts = key.split("/")
        kind, ns, name = parts[-2], (parts[0] if len(parts) == 3 else ""), parts[-1]
        config = (f"ServiceEntry/{ns}/{name}.{ns}.svc.cluster.local" if kind == "Service"
                  else f"{kind}/{ns}/{name}" if ns else f"{kind}/{name}")
        t = at + timedelta(milliseconds=100)
        connected = sum(1 for f in firsts if f <= t)
        lines.append(_stamp(clock, t, f"info\tads\tPush debounce stable[{n}] 1 for config {config}: 100.3ms since "
                            "last change, 100.3ms since last push, full=true"))
        lines.append(_stamp(clock, t + timedelta(milliseconds=1), f"info\tads\tXDS: Pushing Services:{services} "
                            f"ConnectedEndpoints:{connected} Version:{clock.iso(at)}/{n}"))
    return lines


def istiod_logs(spec: SimSpec, state: ClusterState) -> None:
    """Write every running istiod's `discovery` log."""
    clock = state.clock
    istiods = [p for p in _kind(state.objects, "Pod") if labels_of(p).get("app") == "istiod"]
    if not istiods:
        return
    mesh = next((str((cm.get("data") or {}).get("mesh", "")) for cm in _kind(state.objects, "ConfigMap")
                 if cm["metadata"]["name"] == "istio" and cm["metadata"].get("namespace") == "istio-system"), "")
    proxies, counts = _proxies(state), _counts(state)
    services = len(_kind(state.objects, "Service"))
    for i, pod in enumerate(istiods):
        md = pod["metadata"]
        mine = proxies[i::len(istiods)]  # each proxy holds one connection, to one replica
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            started = ((cs.get("state") or {}).get("running") or {}).get("startedAt")
            if cs.get("name") != CONTAINER or not started:
                continue
            t0 = parse_time(started) - clock.shift
            key = LogKey(md.get("namespace", "istio-system"), md["name"], CONTAINER)
            state.logs.setdefault(key, [])
            lines, ready = _startup(clock, t0, mesh)
            more, firsts = _proxy_lines(spec, clock, ready, mine, counts)
            more = sorted(more + _pushes(spec, clock, ready, firsts, services), key=lambda line: line[0])
            lines += more[-MAX_LINES:]
            for t, text in lines:
                if t <= clock.observe_at:
                    state.add_log(key, t, text)

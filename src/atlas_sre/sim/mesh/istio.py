"""Istio's own images, as the simulated registry knows them, and the lines their processes write.

One image (`proxyv2`) runs both `istio-init` and `istio-proxy`, as on a real cluster. Its
behaviour tells them apart the way pilot-agent's modes differ: the init container has none of the
proxy's environment, so its start-up check "fails" with exit code 0 — it configures iptables and
exits, while the sidecar (which has `ISTIO_META_CLUSTER_ID`) keeps running Envoy. Start-up log
lines carry their own timestamps (Istio's log format), so they are written after the kubelet has
decided when each container started, not as static templates.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from atlas_sre.sim.clock import SimClock
from atlas_sre.sim.images import Health, ImageBehaviour, Listen, Registry, Requirement, Usage

VERSION = "1.24.2"
HUB = "docker.io/istio"
PROXY_IMAGE = f"{HUB}/proxyv2:{VERSION}"
PILOT_IMAGE = f"{HUB}/pilot:{VERSION}"
REVISION = "default"
BUILD = f"{VERSION}-3c3fe1e1cb8e6a3e5c1bdc42b2ad36ebc6d9ea41-Clean"

BEHAVIOURS: Registry = {
    PROXY_IMAGE: ImageBehaviour(
        entrypoint=["/usr/local/bin/pilot-agent"],
        binaries=["/usr/local/bin/envoy"],
        listen=[Listen(port=15001, protocol="tcp"), Listen(port=15006, protocol="tcp"), Listen(port=15021),
                Listen(port=15020), Listen(port=15090), Listen(port=8080), Listen(port=8443, protocol="tcp")],
        health=Health(path="/healthz/ready", port=15021),
        usage=Usage(memoryMi=46, cpuMilli=4),
        latencyMs=0.5,
        startupSeconds=2.0,
        requires=[Requirement(env="ISTIO_META_CLUSTER_ID", exitCode=0, log="COMMIT")],
    ),
    PILOT_IMAGE: ImageBehaviour(
        entrypoint=["/usr/local/bin/pilot-discovery"],
        listen=[Listen(port=8080), Listen(port=15010, protocol="grpc"), Listen(port=15012, protocol="grpc"),
                Listen(port=15014), Listen(port=15017, protocol="https")],
        health=Health(path="/ready", port=8080),
        usage=Usage(memoryMi=92, cpuMilli=7),
        startupSeconds=4.0,
    ),
}


def with_istio(registry: Registry) -> Registry:
    """A copy of `registry` that can also pull Istio's images (scenario entries win)."""
    out = dict(registry)
    for image, behaviour in BEHAVIOURS.items():
        out.setdefault(image, behaviour)
    return out


def _stamp(clock: SimClock, t: datetime) -> str:
    return clock.iso_micro(t)


def proxy_startup(clock: SimClock, started: datetime, pod: str, namespace: str, ip: str, router: bool
                  ) -> list[tuple[datetime, str]]:
    """What pilot-agent and Envoy print while a sidecar (or gateway) starts, with their timestamps."""
    role = "router" if router else "sidecar"
    texts = [
        'info\tFLAG: --concurrency="2"',
        f"info\tVersion {BUILD}",
        f"info\tProxy role\tips=[{ip}] type={role} id={pod}.{namespace} domain={namespace}.svc.cluster.local",
        "info\tApply proxy config from env {}",
        "info\tcache\tgenerated new workload certificate\tresourceName=default latency=84.21ms ttl=23h59m59.1s",
        "info\tcache\tRoot cert has changed, start rotating root cert",
        "info\tStarting proxy agent",
        "info\tEnvoy command: [-c etc/istio/proxy/envoy-rev.json --drain-time-s 45 --drain-strategy immediate "
        "--local-address-ip-version v4 --file-flush-interval-msec 1000 --disable-hot-restart "
        "--allow-unknown-static-fields -l warning --component-log-level misc:error --concurrency 2]",
        "info\txdsproxy\tconnected to delta upstream XDS server: istiod.istio-system.svc:15012\tid=1",
        "info\tads\tADS: new connection for node:1",
        "info\tads\tSDS: PUSH request for node:1 resources:1 size:4.0kB resource:default",
        "info\tads\tSDS: PUSH request for node:1 resources:1 size:1.1kB resource:ROOTCA",
        "info\tReadiness succeeded in 1.63s",
        "info\tEnvoy proxy is ready",
    ]
    out = []
    for i, text in enumerate(texts):
        t = started + timedelta(milliseconds=40 * i + (1500 if i >= len(texts) - 2 else 0))
        out.append((t, f"{_stamp(clock, t)}\t{text}"))
    return out


def init_lines(clock: SimClock, started: datetime) -> list[tuple[datetime, str]]:
    """istio-init's iptables set-up (the final `COMMIT` comes from its behaviour)."""
    rules = [
        "* nat", "-N ISTIO_INBOUND", "-N ISTIO_REDIRECT", "-N ISTIO_IN_REDIRECT", "-N ISTIO_OUTPUT",
        "-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN",
        "-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001",
        "-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006",
        "-A PREROUTING -p tcp -j ISTIO_INBOUND",
        "-A ISTIO_INBOUND -p tcp --dport 15090 -j RETURN",
        "-A ISTIO_INBOUND -p tcp --dport 15021 -j RETURN",
        "-A ISTIO_INBOUND -p tcp --dport 15020 -j RETURN",
        "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT",
        "-A OUTPUT -p tcp -j ISTIO_OUTPUT",
        "-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN",
        "-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN",
        "-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN",
        "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN",
        "-A ISTIO_OUTPUT -j ISTIO_REDIRECT",
    ]
    head = [
        "info\tIstio iptables environment:",
        "info\tIstio iptables variables:",
        "info\tRunning iptables-restore with the following input:",
    ]
    out = [(started + timedelta(milliseconds=5 * i), f"{_stamp(clock, started + timedelta(milliseconds=5 * i))}\t{t}")
           for i, t in enumerate(head)]
    base = started + timedelta(milliseconds=20)
    out += [(base + timedelta(milliseconds=i), rule) for i, rule in enumerate(rules)]
    return out

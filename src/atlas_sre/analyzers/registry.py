"""The analyzer registry and the runner: one list, chosen by name, run in a fixed order.

Why a plain list: analyzers are stateless and deterministic, so the registry is data; an unknown
name is an error that lists the valid ones (house rule). `run_analyzers` de-duplicates identical
findings and sorts by (level, code, resource, message) so two runs over the same snapshot print
byte-identical reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from atlas_sre.analyzers.base import Analyzer, Finding, Level, NeedsLogs, Resource, finding
from atlas_sre.analyzers.istio.authz import AuthorizationPolicies
from atlas_sre.analyzers.istio.dr_subsets import DestinationRuleSubsets
from atlas_sre.analyzers.istio.dr_tls import DestinationRuleTls
from atlas_sre.analyzers.istio.fault_injection import FaultInjection
from atlas_sre.analyzers.istio.gateway_workload import GatewayWorkload
from atlas_sre.analyzers.istio.injection import Injection
from atlas_sre.analyzers.istio.mtls_clients import StrictMtlsClients
from atlas_sre.analyzers.istio.port_naming import PortProtocol
from atlas_sre.analyzers.istio.route_timeout import RouteTimeout
from atlas_sre.analyzers.istio.sidecar_egress import SidecarEgress
from atlas_sre.analyzers.istio.traffic_policy import TrafficPolicy
from atlas_sre.analyzers.istio.vs_destination import VirtualServiceDestinations
from atlas_sre.analyzers.istio.vs_gateway import VirtualServiceGateways
from atlas_sre.analyzers.snapshot import LogRequest, Snapshot
from atlas_sre.analyzers.workload.autoscaling import Autoscaling
from atlas_sre.analyzers.workload.capacity import Capacity
from atlas_sre.analyzers.workload.container_config import ContainerConfig
from atlas_sre.analyzers.workload.crash import ContainerCrashes
from atlas_sre.analyzers.workload.dependencies import Dependencies
from atlas_sre.analyzers.workload.dns_policy import DnsPolicy
from atlas_sre.analyzers.workload.image_pull import ImagePull
from atlas_sre.analyzers.workload.init_containers import InitContainers
from atlas_sre.analyzers.workload.network_policy import NetworkPolicies
from atlas_sre.analyzers.workload.nodes import Nodes
from atlas_sre.analyzers.workload.pending import PendingPods
from atlas_sre.analyzers.workload.probes import Probes
from atlas_sre.analyzers.workload.quota import Quota
from atlas_sre.analyzers.workload.service_endpoints import ServiceEndpoints
from atlas_sre.analyzers.workload.target_port import TargetPort
from atlas_sre.analyzers.workload.volumes import Volumes

MESH: tuple[Analyzer, ...] = (
    VirtualServiceDestinations(),
    VirtualServiceGateways(),
    DestinationRuleSubsets(),
    GatewayWorkload(),
    Injection(),
    PortProtocol(),
    StrictMtlsClients(),
    DestinationRuleTls(),
    AuthorizationPolicies(),
    FaultInjection(),
    RouteTimeout(),
    TrafficPolicy(),
    SidecarEgress(),
)
WORKLOAD: tuple[Analyzer, ...] = (
    ContainerCrashes(),
    ImagePull(),
    ContainerConfig(),
    InitContainers(),
    Probes(),
    PendingPods(),
    Capacity(),
    Volumes(),
    Nodes(),
    ServiceEndpoints(),
    TargetPort(),
    Dependencies(),
    NetworkPolicies(),
    DnsPolicy(),
    Autoscaling(),
    Quota(),
)
ANALYZERS: dict[str, Analyzer] = {a.name: a for a in (*MESH, *WORKLOAD)}


def analyzer_names() -> list[str]:
    """Every registered analyzer name, in run order."""
    return list(ANALYZERS)


def get_analyzers(names: Iterable[str] | None = None) -> list[Analyzer]:
    """The analyzers to run (all when `names` is None); unknown names raise ValueError listing valid ones."""
    if names is None:
        return list(ANALYZERS.values())
    wanted = list(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in ANALYZERS]
    if unknown:
        raise ValueError(f"unknown analyzer(s) {', '.join(unknown)} (valid: {', '.join(ANALYZERS)})")
    return [ANALYZERS[n] for n in wanted]


def all_codes() -> list[str]:
    """Every code any analyzer may emit, sorted."""
    return sorted({c for a in ANALYZERS.values() for c in a.codes})


def log_requests(snapshot: Snapshot, names: Iterable[str] | None = None) -> list[LogRequest]:
    """The union of the logs the chosen analyzers want, sorted and de-duplicated."""
    reqs: set[LogRequest] = set()
    for a in get_analyzers(names):
        if isinstance(a, NeedsLogs):
            reqs |= set(a.log_requests(snapshot))
    return sorted(reqs)


def in_namespace(f: Finding, namespace: str | None) -> bool:
    """`-n NS`: findings in (or about) that namespace; cluster-scoped ones only appear without `-n`."""
    return namespace is None or f.resource.scope == namespace


def run_analyzers(
    snapshot: Snapshot, names: Sequence[str] | None = None, namespace: str | None = None
) -> list[Finding]:
    """Run the chosen analyzers; findings de-duplicated and sorted by (level, code, resource, message).

    An analyzer that raises yields one IST0001 InternalError finding instead of aborting the report.
    """
    found: dict[tuple, Finding] = {}
    for analyzer in get_analyzers(names):
        try:
            results = analyzer.analyze(snapshot)
        except Exception as exc:  # an analyzer bug must not hide every other finding
            results = [
                finding(
                    analyzer.name,
                    "IST0001",
                    Level.ERROR,
                    Resource("Analyzer", analyzer.name),
                    f"Internal error: {type(exc).__name__}: {exc}",
                )
            ]
        for f in results:
            if in_namespace(f, namespace):
                found.setdefault((f.code, f.level, f.resource, f.message), f)
    return sorted(found.values(), key=lambda f: f.sort_key)

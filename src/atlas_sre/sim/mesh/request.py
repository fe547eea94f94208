"""Who sends a request and what it asks for: the two inputs of every hop.

A `Client` is an instance's app (with or without its sidecar), the ingress gateway's Envoy, or an
anonymous traffic source outside the pods. A `Request` is what the client's code dials: the
address as written (host, port, authority header), the path and method, and the caller's own
timeout for the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atlas_sre.sim.mesh.world import Instance

EXTERNAL_IP = "172.18.0.1"  # where outside traffic appears to come from (a kind-like docker bridge)
APP_AGENT = "Go-http-client/1.1"
BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@dataclass(frozen=True)
class Client:
    """The sending side of a hop.

    `key` names the instance whose pods write the client-side logs (empty for sources without
    pods); `proxy` says whether an Envoy (sidecar or gateway) handles the request before it leaves.
    """

    key: str
    namespace: str | None
    workload: str
    proxy: bool
    gateway: bool = False
    principal: str | None = None
    pods: int = 1
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    spec: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    agent: str = APP_AGENT
    container: str = ""

    @property
    def logs(self) -> bool:
        """Whether there are pods to write this client's logs."""
        return bool(self.key)


def instance_client(inst: Instance, container: str) -> Client:
    """An instance's app container calling out (through its sidecar when it has one)."""
    return Client(inst.key, inst.namespace, inst.workload, inst.sidecar, False,
                  inst.principal if inst.sidecar else None, len(inst.pods), inst.labels, inst.spec,
                  APP_AGENT, container)


def gateway_client(inst: Instance) -> Client:
    """The ingress gateway's Envoy forwarding an outside request."""
    return Client(inst.key, inst.namespace, inst.workload, True, True, inst.principal, len(inst.pods),
                  inst.labels, inst.spec, BROWSER_AGENT)


def synthetic_client(namespace: str, mesh: bool, agent: str) -> Client:
    """A load generator without pods of its own (no logs on its side)."""
    return Client("", namespace, "unknown", mesh, False,
                  f"cluster.local/ns/{namespace}/sa/default" if mesh else None, 1, {}, {}, agent)


@dataclass(frozen=True)
class Request:
    """One kind of request a client sends."""

    name: str
    host: str
    port: int
    authority: str
    path: str = "/"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    protocol: str = "http"
    timeout_ms: float | None = None
    xff: str = "-"
    dialed: str = "-"  # the ip:port the client's code connected to (DOWNSTREAM_LOCAL_ADDRESS outbound)

    @property
    def header_map(self) -> dict[str, str]:
        """Headers as a lower-cased dict."""
        return {k.lower(): v for k, v in self.headers}

    def op(self) -> str:
        """The method as Go's net/http names it in errors (`Get`, `Post`): `Post "http://…": EOF`."""
        return self.method[:1].upper() + self.method[1:].lower()

    def url(self) -> str:
        """The URL as the caller's HTTP library prints it in errors."""
        return f"http://{self.authority}{self.path}"

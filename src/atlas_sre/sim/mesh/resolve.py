"""Where a process finds its dependency, and what cluster DNS answers for that name.

A call's address comes from the calling container's environment (literal values, ConfigMap and
Secret references, `envFrom`), from a key in a ConfigMap the pod consumes, or from the image's
default, exactly as the process would read it. Names resolve the way a pod's resolv.conf does:
`svc` in the caller's namespace, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`, or a
ClusterIP. A pod whose DNS policy does not point at cluster DNS cannot resolve Service names.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atlas_sre.sim.images import Call
from atlas_sre.sim.mesh.world import World
from atlas_sre.sim.state import Obj

CLUSTER_DNS = "10.96.0.10"
DOMAIN = "svc.cluster.local"
_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def _data(world: World, kind: str, namespace: str, name: str, at: datetime | None = None) -> dict[str, str] | None:
    obj = world.as_of(kind, namespace, name, at)
    if obj is None:
        return None
    out: dict[str, str] = {}
    for key, value in (obj.get("data") or {}).items():
        if kind == "Secret":
            try:
                out[key] = base64.b64decode(str(value)).decode()
            except (ValueError, UnicodeDecodeError):
                out[key] = str(value)
        else:
            out[key] = str(value)
    out.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
    return out


def container_env(world: World, namespace: str, container: dict[str, Any], at: datetime | None = None
                  ) -> dict[str, str]:
    """The environment the kubelet gave the container when it started at `at` (envFrom first, then env,
    `$(VAR)` expanded; ConfigMaps and Secrets as they were then)."""
    env: dict[str, str] = {}
    for src in container.get("envFrom") or []:
        prefix = src.get("prefix") or ""
        for kind, ref in (("ConfigMap", src.get("configMapRef")), ("Secret", src.get("secretRef"))):
            if ref:
                for k, v in (_data(world, kind, namespace, ref.get("name", ""), at) or {}).items():
                    env[prefix + k] = v
    for item in container.get("env") or []:
        name = item.get("name", "")
        if "value" in item:
            env[name] = _VAR.sub(lambda m: env.get(m.group(1), m.group(0)), str(item["value"]))
            continue
        source = item.get("valueFrom") or {}
        for kind, ref in (("ConfigMap", source.get("configMapKeyRef")), ("Secret", source.get("secretKeyRef"))):
            if ref:
                value = (_data(world, kind, namespace, ref.get("name", ""), at) or {}).get(ref.get("key", ""))
                if value is not None:
                    env[name] = value
    return env


def _consumed_config_maps(pod_spec: dict[str, Any], container: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for vol in pod_spec.get("volumes") or []:
        if vol.get("configMap"):
            names.append(vol["configMap"].get("name", ""))
        for src in (vol.get("projected") or {}).get("sources") or []:
            if src.get("configMap"):
                names.append(src["configMap"].get("name", ""))
    names += [s["configMapRef"].get("name", "") for s in container.get("envFrom") or [] if s.get("configMapRef")]
    return names


def config_value(world: World, namespace: str, pod_spec: dict[str, Any], container: dict[str, Any],
                 key: str, at: datetime | None = None) -> str | None:
    """A key from a ConfigMap the pod mounts or imports: a data key, or a `key: value` / `key=value`
    line inside a mounted config file (read at start, as most processes do)."""
    line = re.compile(rf"^\s*{re.escape(key)}\s*[:=]\s*\"?([^\"\s#]+)\"?", re.MULTILINE)
    for name in _consumed_config_maps(pod_spec, container):
        data = _data(world, "ConfigMap", namespace, name, at) or {}
        if key in data:
            return data[key]
        for text in data.values():
            found = line.search(text)
            if found:
                return found.group(1)
    return None


def call_address(world: World, namespace: str, pod_spec: dict[str, Any], container: dict[str, Any],
                 call: Call, at: datetime | None = None) -> str | None:
    """The address string the process (started at `at`) would dial for `call` (None: it has none)."""
    addr = call.address
    if addr.env:
        value = container_env(world, namespace, container, at).get(addr.env)
        if value:
            return value
    if addr.configKey:
        value = config_value(world, namespace, pod_spec, container, addr.configKey, at)
        if value:
            return value
    return addr.default


@dataclass(frozen=True)
class Target:
    """A parsed dial address: the name as written, its port, and the authority header it yields."""

    host: str
    port: int
    authority: str


def parse_address(address: str) -> Target:
    """`http://host:port/path`, `host:port` or `host` → Target (port defaults by scheme)."""
    text = address.strip()
    scheme = ""
    if "://" in text:
        scheme, text = text.split("://", 1)
    text = text.split("/", 1)[0]
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    default = 443 if scheme == "https" else 80
    number = int(port) if port.isdigit() else default
    return Target(host, number, f"{host}:{port}" if port else host)


def dns_failure(world: World, pod_spec: dict[str, Any], host: str) -> str | None:
    """The resolver error a pod with this DNS policy gets for a cluster name (None: cluster DNS)."""
    policy = pod_spec.get("dnsPolicy") or "ClusterFirst"
    if pod_spec.get("hostNetwork") and policy == "ClusterFirst":
        policy = "Default"
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet"):
        return None
    servers = (pod_spec.get("dnsConfig") or {}).get("nameservers") or []
    if policy == "None" and CLUSTER_DNS in servers:
        return None
    server = servers[0] if servers else "169.254.169.254"
    return f"dial tcp: lookup {host} on {server}:53: no such host"


def lookup_service(world: World, host: str, caller_ns: str) -> Obj | None:
    """The Service a pod in `caller_ns` reaches by this name (search path semantics), or None."""
    for svc in world.list("Service"):
        if (svc.get("spec") or {}).get("clusterIP") == host and host not in ("", "None"):
            return svc
    parts = host.rstrip(".").split(".")
    if len(parts) == 1:
        return world.get("Service", caller_ns, parts[0])
    if len(parts) == 2 or (len(parts) == 3 and parts[2] == "svc") or (
        len(parts) == 5 and ".".join(parts[2:]) == DOMAIN
    ):
        return world.get("Service", parts[1], parts[0])
    return None


def fqdn(svc: Obj) -> str:
    """`name.namespace.svc.cluster.local`."""
    return f"{svc['metadata']['name']}.{svc['metadata'].get('namespace', 'default')}.{DOMAIN}"

"""What a container is given to start with: environment, mounted ConfigMaps/Secrets, its command.

The kubelet resolves these when it *creates* a container, so the answers depend on the instant:
a ConfigMap a fault deleted at 09:20 still fed every container created before then. History
(`SimSpec.history`) supplies the object as it was before a change; `ConfigIndex` is built once
per stage run and answers "this ConfigMap as of t" by dict lookup. Error strings are the
kubelet's own (`kubelet_pods.go` makeEnvironmentVariables, the configmap/secret volume plugins,
runc via containerd), because agents match on them.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from atlas_sre.kube.quantity import parse_quantity
from atlas_sre.sim.images import ImageBehaviour, Requirement
from atlas_sre.sim.state import ClusterState, SimSpec

Obj = dict[str, Any]
_KINDS = ("ConfigMap", "Secret")
_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.\-]*)\)")


@dataclass(frozen=True)
class ConfigData:
    """One ConfigMap or Secret: string values usable as env, and every key (binaryData too)."""

    values: dict[str, str]
    keys: frozenset[str]


def _decode(obj: Obj) -> ConfigData:
    if obj.get("kind") == "Secret":
        values: dict[str, str] = {}
        for k, v in (obj.get("data") or {}).items():
            try:
                values[k] = base64.b64decode(str(v), validate=False).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                values[k] = ""
        values.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
        return ConfigData(values, frozenset(values))
    values = {k: str(v) for k, v in (obj.get("data") or {}).items()}
    return ConfigData(values, frozenset(values) | frozenset(obj.get("binaryData") or {}))


@dataclass
class ConfigIndex:
    """ConfigMaps and Secrets by (kind, namespace, name), now and before their last change."""

    current: dict[tuple[str, str, str], ConfigData] = field(default_factory=dict)
    before: dict[tuple[str, str, str], tuple[datetime, ConfigData | None]] = field(default_factory=dict)
    changes: dict[str, list[datetime]] = field(default_factory=dict)

    @classmethod
    def build(cls, spec: SimSpec, state: ClusterState) -> ConfigIndex:
        """One pass over manifests and derived objects (derived ones win), plus the history."""
        index = cls()
        for obj in [*spec.manifests, *state.objects]:
            if obj.get("kind") in _KINDS:
                md = obj.get("metadata") or {}
                index.current[(obj["kind"], md.get("namespace") or "default", md.get("name", ""))] = _decode(obj)
        for key, change in spec.history.items():
            parts = key.split("/")
            if len(parts) == 3 and parts[1] in _KINDS:
                prev = _decode(change.previous) if change.previous else None
                index.before[(parts[1], parts[0], parts[2])] = (change.at, prev)
                index.changes.setdefault(parts[0], []).append(change.at)
        for times in index.changes.values():
            times.sort()
        return index

    def get(self, kind: str, namespace: str, name: str, at: datetime) -> ConfigData | None:
        """The object as a kubelet creating a container at `at` would read it (None: absent)."""
        key = (kind, namespace, name)
        past = self.before.get(key)
        if past is not None and at < past[0]:
            return past[1]
        return self.current.get(key)

    def epoch(self, namespace: str, at: datetime) -> int:
        """How many config changes in the namespace happened by `at` (same epoch, same answers)."""
        return bisect.bisect_right(self.changes.get(namespace, []), at)

    def next_change(self, namespace: str, after: datetime) -> datetime | None:
        """The first config change in the namespace strictly after `after`."""
        times = self.changes.get(namespace, [])
        i = bisect.bisect_right(times, after)
        return times[i] if i < len(times) else None


@dataclass(frozen=True)
class PodFacts:
    """What `fieldRef` env vars can read from the pod."""

    namespace: str
    name: str
    uid: str
    node: str
    pod_ip: str
    host_ip: str
    service_account: str
    labels: dict[str, str]
    annotations: dict[str, str]

    def field(self, path: str) -> str:
        simple = {
            "metadata.name": self.name, "metadata.namespace": self.namespace, "metadata.uid": self.uid,
            "spec.nodeName": self.node, "spec.serviceAccountName": self.service_account,
            "status.podIP": self.pod_ip, "status.podIPs": self.pod_ip, "status.hostIP": self.host_ip,
            "status.hostIPs": self.host_ip,
        }
        if path in simple:
            return simple[path]
        m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
        if m:
            source = self.labels if m.group(1) == "labels" else self.annotations
            return source.get(m.group(2), "")
        return ""


def _expand(value: str, env: dict[str, str]) -> str:
    """`$(VAR)` expansion against the variables defined so far; `$$` escapes, unknown refs stay."""
    return _VAR_REF.sub(lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), value)


def _resource_field(container: Obj, ref: Obj) -> str:
    res = container.get("resources") or {}
    kind, _, name = str(ref.get("resource", "")).partition(".")
    raw = (res.get(kind) or {}).get(name)
    if raw is None:
        return "0"
    divisor = parse_quantity(ref.get("divisor") or "1") or 1
    value = parse_quantity(raw) / divisor
    return str(int(-(-value // 1)))


def resolve_env(
    container: Obj, pod: PodFacts, index: ConfigIndex, at: datetime
) -> tuple[dict[str, str], str | None]:
    """The container's environment, or the CreateContainerConfigError message that stops it."""
    env: dict[str, str] = {}
    ns = pod.namespace
    for source in container.get("envFrom") or []:
        prefix = str(source.get("prefix") or "")
        for key, kind, word in (("configMapRef", "ConfigMap", "configmap"), ("secretRef", "Secret", "secret")):
            ref = source.get(key)
            if ref is None:
                continue
            data = index.get(kind, ns, str(ref.get("name", "")), at)
            if data is None:
                if ref.get("optional"):
                    continue
                return env, f'{word} "{ref.get("name", "")}" not found'
            env.update({prefix + k: v for k, v in data.values.items()})
    for var in container.get("env") or []:
        name = str(var.get("name", ""))
        source = var.get("valueFrom")
        if not source:
            env[name] = _expand(str(var.get("value") or ""), env)
            continue
        if "fieldRef" in source:
            env[name] = pod.field(str((source["fieldRef"] or {}).get("fieldPath", "")))
            continue
        if "resourceFieldRef" in source:
            env[name] = _resource_field(container, source["resourceFieldRef"] or {})
            continue
        for key, kind, word in (("configMapKeyRef", "ConfigMap", "configmap"), ("secretKeyRef", "Secret", "secret")):
            ref = source.get(key)
            if ref is None:
                continue
            ref_name, ref_key = str(ref.get("name", "")), str(ref.get("key", ""))
            data = index.get(kind, ns, ref_name, at)
            if data is None:
                if ref.get("optional"):
                    break
                return env, f'{word} "{ref_name}" not found'
            if ref_key not in data.values:
                if ref.get("optional"):
                    break
                return env, f"couldn't find key {ref_key} in {kind} {ns}/{ref_name}"
            env[name] = data.values[ref_key]
            break
    return env, None


def _volume_source_error(kind: str, name: str, items: list[Obj], optional: bool, data: ConfigData | None) -> str | None:
    word = "configmap" if kind == "ConfigMap" else "secret"
    if data is None:
        return None if optional else f'{word} "{name}" not found'
    for item in items:
        key = str(item.get("key", ""))
        if key not in data.keys and not optional:
            noun = "config key" if kind == "ConfigMap" else "secret key"
            return f"{word} references non-existent {noun}: {key}"
    return None


def volume_error(pod_spec: Obj, namespace: str, index: ConfigIndex, at: datetime) -> tuple[str, str] | None:
    """The first ConfigMap/Secret volume that cannot be set up at `at`: (volume name, reason)."""
    for vol in pod_spec.get("volumes") or []:
        sources: list[tuple[str, Obj]] = []
        if "configMap" in vol:
            sources.append(("ConfigMap", vol["configMap"] or {}))
        if "secret" in vol:
            src = dict(vol["secret"] or {})
            src["name"] = src.get("secretName", "")
            sources.append(("Secret", src))
        for proj in ((vol.get("projected") or {}).get("sources") or []):
            if "configMap" in proj:
                sources.append(("ConfigMap", proj["configMap"] or {}))
            if "secret" in proj:
                sources.append(("Secret", proj["secret"] or {}))
        for kind, src in sources:
            name = str(src.get("name", ""))
            err = _volume_source_error(kind, name, src.get("items") or [], bool(src.get("optional")),
                                       index.get(kind, namespace, name, at))
            if err:
                return str(vol.get("name", "")), err
    return None


def failing_requirement(behaviour: ImageBehaviour, env: dict[str, str], on_fail: str = "exit"
                        ) -> tuple[Requirement, str] | None:
    """The first check the process fails, with the value it saw ("" when unset).

    `on_fail="exit"`: the start-up checks; `"request"`: those each served request makes.
    """
    for req in behaviour.requires:
        if req.onFail != on_fail:
            continue
        value = env.get(req.env)
        if not value:
            return req, ""
        if req.equals is not None and value != req.equals:
            return req, value
        if req.matches and not re.search(req.matches, value):
            return req, value
    return None


def command_error(container: Obj, behaviour: ImageBehaviour) -> str | None:
    """containerd's StartError message when the container's argv[0] is not in the image."""
    command = container.get("command") or []
    if not command:
        return None
    exe = str(command[0])
    if exe in behaviour.executables():
        return None
    detail = f"stat {exe}: no such file or directory" if exe.startswith("/") else "executable file not found in $PATH"
    return (
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
        f'runc create failed: unable to start container process: exec: "{exe}": {detail}: unknown'
    )

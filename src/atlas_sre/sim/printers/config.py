"""Tables for configuration and access objects: ConfigMap, Secret, ServiceAccount, ResourceQuota,
PriorityClass, RoleBinding and ClusterRoleBinding.

Also the apiserver's *default* table convertor (NAME, CREATED AT) that real clusters use for kinds
without a printer (Role, ClusterRole, LimitRange), so `kubectl get role` looks as it does live.
Secrets show only the number of data keys, never values.
"""

from __future__ import annotations

from datetime import datetime

from atlas_sre.sim.clock import UTC, parse_time
from atlas_sre.sim.printers.columns import AGE, AGE_DESC, NAME, Column, Printer, count, field_or
from atlas_sre.sim.printers.common import Obj, dig, kind_name, meta


def _quota(limits: bool) -> Column:
    """`resource: used/hard` pairs sorted by resource: `limits.*` in LIMIT, the rest in REQUEST."""

    def cell(obj: Obj, now: datetime) -> str:
        hard, used = dig(obj, "status", "hard") or {}, dig(obj, "status", "used") or {}
        pairs = []
        for resource in sorted(hard):
            pieces = resource.split(".")
            if (len(pieces) > 1 and pieces[0] == "limits") == limits:
                pairs.append(f"{resource}: {used.get(resource, '0')}/{hard[resource]}")
        return ", ".join(pairs)

    if limits:
        return Column("Limit", "Limits control the maximum amount of cpu/memory that a container may use "
                      "independent of contention on the node.", cell)
    return Column("Request", "Request represents a minimum amount of cpu/memory that a container may consume.", cell)


def _subjects(kind: str, what: str) -> Column:
    """`rbac.SubjectsStrings`: the users, groups or `namespace/name` service accounts of a `what`."""

    def cell(obj: Obj, now: datetime) -> str:
        names = []
        for s in obj.get("subjects") or []:
            if s.get("kind") == kind:
                sa = kind == "ServiceAccount"
                names.append(f"{s.get('namespace', '')}/{s.get('name', '')}" if sa else s.get("name", ""))
        return ", ".join(names)

    return Column(f"{kind}s", f"{kind}s in the {what}", cell, priority=1)


def _binding(what: str) -> Printer:
    """RoleBinding and ClusterRoleBinding share their columns; only the subject descriptions name the kind."""
    return Printer([
        NAME,
        Column("Role", "RoleRef can reference a Role in the current namespace or a ClusterRole in the global "
               "namespace.", lambda o, now: kind_name(o.get("roleRef"))),
        AGE,
        _subjects("User", what),
        _subjects("Group", what),
        _subjects("ServiceAccount", what),
    ])


def _created_at(obj: Obj, now: datetime) -> str:
    """creationTimestamp in RFC 3339 (the default convertor sends a date; kubectl ages it)."""
    ts = meta(obj).get("creationTimestamp")
    return parse_time(ts).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else "0001-01-01T00:00:00Z"


DEFAULT_CONVERTOR = Printer([NAME, Column("Created At", AGE_DESC, _created_at, type="date")])
# Built-in kinds whose storage uses rest.NewDefaultTableConvertor (no printer in printers.go).
DEFAULT_CONVERTOR_KINDS = frozenset({"Role", "ClusterRole", "LimitRange", "CustomResourceDefinition"})

PRINTERS: dict[str, Printer] = {
    "ConfigMap": Printer([
        NAME,
        Column("Data", "Data contains the configuration data.",
               lambda o, now: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
        AGE,
    ]),
    "Secret": Printer([
        NAME,
        Column("Type", "Used to facilitate programmatic handling of secret data.", field_or("type", default="Opaque")),
        Column("Data", "Data contains the secret data.", count("data")),
        AGE,
    ]),
    "ServiceAccount": Printer([
        NAME,
        Column("Secrets", "Secrets is a list of the secrets in the same namespace that pods running using this "
               "ServiceAccount are allowed to use.", count("secrets")),
        AGE,
    ]),
    "ResourceQuota": Printer([NAME, _quota(limits=False), _quota(limits=True), AGE]),
    "PriorityClass": Printer([
        NAME,
        Column("Value", "value represents the integer value of this priority class.",
               lambda o, now: int(o.get("value") or 0), type="integer"),
        Column("Global-Default", "globalDefault specifies whether this PriorityClass should be considered as the "
               "default priority for pods that do not have any priority class.",
               lambda o, now: bool(o.get("globalDefault", False)), type="boolean"),
        AGE,
        Column("PreemptionPolicy", "preemptionPolicy is the Policy for preempting pods with lower priority.",
               field_or("preemptionPolicy", default="PreemptLowerPriority")),
    ]),
    "RoleBinding": _binding("roleBinding"),
    "ClusterRoleBinding": _binding("clusterRoleBinding"),
}

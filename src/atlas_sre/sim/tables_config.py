"""Printers for configuration and access objects: ConfigMap, Secret, ServiceAccount, ResourceQuota,
PriorityClass, RoleBinding and ClusterRoleBinding.

Also the apiserver's *default* table convertor (NAME, CREATED AT) that real clusters use for kinds
without a printer (Role, ClusterRole, LimitRange), so `kubectl get role` looks as it does live.
Secrets show only the number of data keys, never values.
"""

from __future__ import annotations

from datetime import datetime

from atlas_sre.sim.clock import UTC, parse_time
from atlas_sre.sim.tables_common import (
    AGE_DESC,
    Cells,
    Obj,
    Printer,
    age,
    age_col,
    col,
    dig,
    meta,
    name,
    name_col,
)


def _resource_quota(obj: Obj, now: datetime) -> Cells:
    """`resource: used/hard` pairs sorted by resource; `limits.*` go to LIMIT, the rest to REQUEST."""
    hard, used = dig(obj, "status", "hard") or {}, dig(obj, "status", "used") or {}
    requests, limits = [], []
    for resource in sorted(hard):
        text = f"{resource}: {used.get(resource, '0')}/{hard[resource]}"
        pieces = resource.split(".")
        (limits if len(pieces) > 1 and pieces[0] == "limits" else requests).append(text)
    return [name(obj), ", ".join(requests), ", ".join(limits), age(obj, now)]


def _subjects(obj: Obj) -> tuple[str, str, str]:
    """`rbac.SubjectsStrings`: users, groups and `namespace/name` service accounts."""
    users, groups, sas = [], [], []
    for s in obj.get("subjects") or []:
        if s.get("kind") == "User":
            users.append(s.get("name", ""))
        elif s.get("kind") == "Group":
            groups.append(s.get("name", ""))
        elif s.get("kind") == "ServiceAccount":
            sas.append(f"{s.get('namespace', '')}/{s.get('name', '')}")
    return ", ".join(users), ", ".join(groups), ", ".join(sas)


def _binding(obj: Obj, now: datetime) -> Cells:
    """Name, `Kind/name` of the role, Age, then the wide subject columns."""
    ref = obj.get("roleRef") or {}
    return [name(obj), f"{ref.get('kind', '')}/{ref.get('name', '')}", age(obj, now), *_subjects(obj)]


def _created_at(obj: Obj, now: datetime) -> Cells:
    """The default convertor's cells: name and creationTimestamp in RFC 3339 (kubectl ages it)."""
    ts = meta(obj).get("creationTimestamp")
    text = parse_time(ts).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else "0001-01-01T00:00:00Z"
    return [name(obj), text]


def _binding_columns(kind: str) -> list[Obj]:
    """RoleBinding and ClusterRoleBinding share columns; only the descriptions differ."""
    what = "roleBinding" if kind == "RoleBinding" else "clusterRoleBinding"
    return [
        name_col(),
        col(
            "Role",
            "string",
            "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
        ),
        age_col(),
        col("Users", "string", f"Users in the {what}", priority=1),
        col("Groups", "string", f"Groups in the {what}", priority=1),
        col("ServiceAccounts", "string", f"ServiceAccounts in the {what}", priority=1),
    ]


DEFAULT_COLUMNS = [name_col(), col("Created At", "date", AGE_DESC)]
DEFAULT_CONVERTOR = Printer(DEFAULT_COLUMNS, _created_at)
# Built-in kinds whose storage uses rest.NewDefaultTableConvertor (no printer in printers.go).
DEFAULT_CONVERTOR_KINDS = frozenset({"Role", "ClusterRole", "LimitRange", "CustomResourceDefinition"})

PRINTERS: dict[str, Printer] = {
    "ConfigMap": Printer(
        [name_col(), col("Data", "string", "Data contains the configuration data."), age_col()],
        lambda o, now: [name(o), len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o, now)],
    ),
    "Secret": Printer(
        [
            name_col(),
            col("Type", "string", "Used to facilitate programmatic handling of secret data."),
            col("Data", "string", "Data contains the secret data."),
            age_col(),
        ],
        lambda o, now: [name(o), o.get("type") or "Opaque", len(o.get("data") or {}), age(o, now)],
    ),
    "ServiceAccount": Printer(
        [
            name_col(),
            col(
                "Secrets",
                "string",
                "Secrets is a list of the secrets in the same "
                "namespace that pods running using this ServiceAccount are allowed "
                "to use.",
            ),
            age_col(),
        ],
        lambda o, now: [name(o), len(o.get("secrets") or []), age(o, now)],
    ),
    "ResourceQuota": Printer(
        [
            name_col(),
            col(
                "Request",
                "string",
                "Request represents a minimum amount of cpu/memory that a container may consume.",
            ),
            col(
                "Limit",
                "string",
                "Limits control the maximum amount of cpu/memory that a "
                "container may use independent of contention on the node.",
            ),
            age_col(),
        ],
        _resource_quota,
    ),
    "PriorityClass": Printer(
        [
            name_col(),
            col("Value", "integer", "value represents the integer value of this priority class."),
            col(
                "Global-Default",
                "boolean",
                "globalDefault specifies whether this "
                "PriorityClass should be considered as the default priority for pods that do "
                "not have any priority class.",
            ),
            age_col(),
            col(
                "PreemptionPolicy",
                "string",
                "preemptionPolicy is the Policy for preempting pods with lower priority.",
            ),
        ],
        lambda o, now: [
            name(o),
            int(o.get("value") or 0),
            bool(o.get("globalDefault", False)),
            age(o, now),
            o.get("preemptionPolicy") or "PreemptLowerPriority",
        ],
    ),
    "RoleBinding": Printer(_binding_columns("RoleBinding"), _binding),
    "ClusterRoleBinding": Printer(_binding_columns("ClusterRoleBinding"), _binding),
}

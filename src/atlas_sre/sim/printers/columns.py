"""A kind's table as data: its columns (definition + cell) and the optional row conditions.

kube-apiserver's printers.go declares each kind's `TableColumnDefinition`s in one list and fills the
cells in a separate handler, so the two drift apart only by mistake. Here one `Column` carries both
halves, and a `Printer` is nothing but the ordered columns of one kind: adding a kind is one data
entry, plus a small cell function when no field path (`field`, `field_or`) says it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atlas_sre.sim.printers.common import (
    Obj,
    age,
    dig,
    format_label_selector,
    layout_containers,
    name,
    status_int,
    template_containers,
)

Cell = Callable[[Obj, datetime], Any]
"""One cell of a row: the object and the instant the table is rendered at (for ages)."""

Cells = list[Any]

# metav1.ObjectMeta{}.SwaggerDoc()["name"] and ["creationTimestamp"], as the apiserver sends them.
NAME_DESC = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. "
    "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
    "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
AGE_DESC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients may "
    "not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. "
    "Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


@dataclass(frozen=True)
class Column:
    """One `TableColumnDefinition` and the function that fills its cell in every row.

    `priority` 1 marks a `-o wide` column: the apiserver still sends its cells, kubectl hides them.
    `part` is for columns that printers.go fills from one computation (a pod's READY, STATUS and
    RESTARTS): their shared `cell` returns a tuple, computed once per row, and each takes its part.
    """

    name: str
    description: str
    cell: Cell
    type: str = "string"
    format: str = ""
    priority: int = 0
    part: int | None = None

    def definition(self) -> Obj:
        """The definition with every key present, in the order the apiserver serialises them."""
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


@dataclass(frozen=True)
class Printer:
    """A kind's table: its columns in order; `conditions` gives `TableRow.conditions` (finished pods)."""

    columns: Sequence[Column]
    conditions: Callable[[Obj], list[Obj] | None] | None = None

    def definitions(self) -> list[Obj]:
        """The Table's `columnDefinitions`."""
        return [c.definition() for c in self.columns]

    def cells(self, obj: Obj, now: datetime) -> Cells:
        """One row's cells, every column's (wide ones included, as the apiserver sends them)."""
        shared: dict[Cell, Any] = {}
        row: Cells = []
        for c in self.columns:
            if c.part is None:
                row.append(c.cell(obj, now))
                continue
            if c.cell not in shared:
                shared[c.cell] = c.cell(obj, now)
            row.append(shared[c.cell][c.part])
        return row


def field(*path: str, default: Any = "") -> Cell:
    """The value at `path`, `default` when its last key is absent (Go's zero value of the field)."""
    *parents, leaf = path

    def cell(obj: Obj, now: datetime) -> Any:
        parent = dig(obj, *parents) if parents else obj
        return parent.get(leaf, default) if isinstance(parent, dict) else default

    return cell


def field_or(*path: str, default: Any) -> Cell:
    """The value at `path`, `default` when it is unset or empty (printers.go's `<none>`, `<unset>`)."""
    return lambda obj, now: dig(obj, *path) or default


def count(*path: str) -> Cell:
    """How many items (list) or keys (map) the field at `path` holds."""
    return lambda obj, now: len(dig(obj, *path) or ())


def status_count(field_name: str) -> Cell:
    """An integer `status.<field_name>`, 0 when unset (Go's zero value): replica and node counts."""
    return lambda obj, now: status_int(obj, field_name)


NAME = Column("Name", NAME_DESC, lambda obj, now: name(obj), format="name")
AGE = Column("Age", AGE_DESC, age)  # a string: the apiserver sends "5m", not a date


def spec_selector(obj: Obj) -> str:
    """`spec.selector` as a LabelSelector string, `<none>` when it selects everything."""
    return format_label_selector(dig(obj, "spec", "selector"))


def template_columns(
    containers: Callable[[Obj], list[Obj] | None] = template_containers,
    selector: Callable[[Obj], str] | None = spec_selector,
) -> list[Column]:
    """The `-o wide` Containers / Images (/ Selector) columns of workloads that own a pod template.

    `containers` finds the template's containers (a CronJob's sit in its job template); `selector`
    prints the selector, or None for a kind without that column (StatefulSet).
    """

    def names_and_images(obj: Obj, now: datetime) -> tuple[str, str]:
        return layout_containers(containers(obj))

    columns = [
        Column("Containers", "Names of each container in the template.", names_and_images, priority=1, part=0),
        Column("Images", "Images referenced by each container in the template.", names_and_images, priority=1, part=1),
    ]
    if selector is not None:
        columns.append(Column("Selector", "A label query over pods that should match the replica count.",
                              lambda obj, now: selector(obj), priority=1))
    return columns

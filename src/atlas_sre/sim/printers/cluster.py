"""Lease, ControllerRevision and the admission webhook configurations.

Ported from printers.go (1.32): `kubectl get leases` shows the holder, `get controllerrevisions`
the controlling object as `<kind>.<group>/<name>` and the revision number, and the webhook
configurations how many webhooks each holds.
"""

from __future__ import annotations

from datetime import datetime

from atlas_sre.sim.printers.columns import AGE, NAME, Column, Printer
from atlas_sre.sim.printers.common import Obj, meta


def _holder(obj: Obj, now: datetime) -> str:
    holder = (obj.get("spec") or {}).get("holderIdentity")
    return "<unknown>" if holder is None else str(holder)


def _controller(obj: Obj, now: datetime) -> str:
    """printControllerRevision: formatResourceName(GroupKind, name, withKind=true), else <none>."""
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            group = str(ref.get("apiVersion", "")).rpartition("/")[0]
            kind = f"{ref.get('kind', '')}.{group}" if group else str(ref.get("kind", ""))
            return f"{kind.lower()}/{ref.get('name', '')}"
    return "<none>"


def _webhooks() -> Printer:
    return Printer([NAME, Column("Webhooks", "Webhooks indicates the number of webhooks in the configuration",
                                 lambda o, now: len(o.get("webhooks") or []), type="integer"), AGE])


PRINTERS: dict[str, Printer] = {
    "Lease": Printer([
        NAME,
        Column("Holder", "holderIdentity contains the identity of the holder of a current lease. If Coordinated "
               "Leader Election is used, the holder identity must be equal to the elected "
               "LeaseCandidate.metadata.name field.", _holder),
        AGE,
    ]),
    "ControllerRevision": Printer([
        NAME,
        Column("Controller", "Controller of the object", _controller),
        Column("Revision", "Revision indicates the revision of the state represented by Data.",
               lambda o, now: int(o.get("revision") or 0)),
        AGE,
    ]),
    "MutatingWebhookConfiguration": _webhooks(),
    "ValidatingWebhookConfiguration": _webhooks(),
}

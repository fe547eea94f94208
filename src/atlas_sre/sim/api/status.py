"""Replies and `Status` errors, worded as the real API server words them.

kubectl prints a Status `message` verbatim after `Error from server (<reason>):`, so the messages
here are what an agent reads; they follow the apiserver's and RBAC's exact phrasing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from atlas_sre.sim.resources import ResourceType

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
USER = "atlas-sre-agent"
READ_ONLY = "the simulated cluster is read-only"
WATCH_UNSUPPORTED = "watch is not supported by the simulated cluster: use kubectl get without -w"


def dumps(obj: Any) -> bytes:
    """Compact JSON as the API server writes it (key order preserved: deterministic objects stay so)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class Response:
    """One HTTP reply; the server adds Content-Length and the common headers."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


def ok(obj: Any, content_type: str = JSON) -> Response:
    return Response(200, obj if isinstance(obj, bytes) else dumps(obj), content_type)


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> Response:
    """A failure `Status` object."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details:
        body["details"] = details
    body["code"] = code
    return Response(code, dumps(body))


def _details(rt: ResourceType, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural
    return details


def not_found(rt: ResourceType, name: str) -> Response:
    """`pods "x" not found` / `deployments.apps "x" not found`."""
    return status(404, "NotFound", f'{rt.qualified} "{name}" not found', _details(rt, name))


def no_route() -> Response:
    """An unknown path: the apiserver's generic 404."""
    return status(404, "NotFound", "the server could not find the requested resource",
                  {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]})


def bad_request(message: str) -> Response:
    return status(400, "BadRequest", message)


def forbidden(verb: str, rt: ResourceType | None, namespace: str | None, name: str | None,
              subresource: str | None = None, path: str = "") -> Response:
    """An RBAC-style denial for every write: the agent's account may only read."""
    if rt is None:
        return status(403, "Forbidden", f'forbidden: User "{USER}" cannot {verb} path "{path}": {READ_ONLY}')
    subject = f'{rt.qualified} "{name}"' if name else rt.qualified
    resource = f"{rt.plural}/{subresource}" if subresource else rt.plural
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = (f'{subject} is forbidden: User "{USER}" cannot {verb} resource "{resource}" '
               f'in API group "{rt.group}" {scope}: {READ_ONLY}')
    return status(403, "Forbidden", message, _details(rt, name))


def watch_unsupported() -> Response:
    """`-w` needs a stream; answer at once and plainly rather than hang or send garbage."""
    return status(405, "MethodNotAllowed", WATCH_UNSUPPORTED)


def internal_error(exc: BaseException) -> Response:
    """A handler bug still answers a Status (a dropped connection makes kubectl retry for ages)."""
    return status(500, "InternalError", f"Internal error occurred: {type(exc).__name__}: {exc}",
                  {"causes": [{"message": f"{type(exc).__name__}: {exc}"}]})

"""Replies and `Status` errors, worded as the real API server words them.

kubectl prints a Status `message` verbatim after `Error from server (<reason>):`, so the messages
here are what an agent reads; they follow the apiserver's and RBAC's exact phrasing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from atlas_sre.sim.resources import ResourceType

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
USER = "atlas-sre-agent"
READ_ONLY = "the simulated cluster is read-only"


def dumps(obj: Any) -> bytes:
    """Compact JSON as the API server writes it (key order preserved: deterministic objects stay so)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Stream(Protocol):
    """A streamed reply body (a watch): chunks now, then chunks at later times, then the end.

    `initial()` is written at once; `later()` yields (seconds after the start, chunk) in time order;
    the stream ends at `timeout` seconds. The server owns the socket, the clock and the client
    going away; a Stream only says what to send when.
    """

    timeout: float

    def initial(self) -> Iterable[bytes]: ...

    def later(self) -> Iterable[tuple[float, bytes]]: ...


@dataclass
class Response:
    """One HTTP reply; the server adds Content-Length (or chunked framing for a stream) and the common headers."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    stream: Stream | None = None


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
    return _denied(verb, rt, namespace, name, subresource, path, READ_ONLY)


def forbidden_rbac(verb: str, rt: ResourceType | None, namespace: str | None, name: str | None,
                   subresource: str | None = None, path: str = "") -> Response:
    """RBAC's own denial of a read the account's role does not grant (proxy, `/metrics`).

    Not the simulator being read-only: a real read-only role has no rule for these either, and
    RBAC words the denial without a reason.
    """
    return _denied(verb, rt, namespace, name, subresource, path, "")


def _denied(verb: str, rt: ResourceType | None, namespace: str | None, name: str | None,
            subresource: str | None, path: str, reason: str) -> Response:
    """The apiserver's `forbiddenMessage`, plus `: <reason>` when the authorizer gave one."""
    suffix = f": {reason}" if reason else ""
    if rt is None:
        return status(403, "Forbidden", f'forbidden: User "{USER}" cannot {verb} path "{path}"{suffix}')
    subject = f'{rt.qualified} "{name}"' if name else rt.qualified
    resource = f"{rt.plural}/{subresource}" if subresource else rt.plural
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = (f'{subject} is forbidden: User "{USER}" cannot {verb} resource "{resource}" '
               f'in API group "{rt.group}" {scope}{suffix}')
    return status(403, "Forbidden", message, _details(rt, name))


def expired(message: str) -> Response:
    """410 Gone / `Expired`: a continue token or resourceVersion from another state."""
    return status(410, "Expired", message)


def internal_error(exc: BaseException) -> Response:
    """A handler bug still answers a Status (a dropped connection makes kubectl retry for ages)."""
    return status(500, "InternalError", f"Internal error occurred: {type(exc).__name__}: {exc}",
                  {"causes": [{"message": f"{type(exc).__name__}: {exc}"}]})

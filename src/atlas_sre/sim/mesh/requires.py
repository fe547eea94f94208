"""Requirements a process checks on every request it serves (`requires[].onFail: request`).

A process that reads a credential only when it uses it (a database password, an API key) starts,
passes its probes and stays Ready; each request then fails. The check reads the container's
environment as the kubelet gave it when the current instance started (Secrets and ConfigMaps as
they were then), with the same rule the kubelet applies to start-up checks.
"""

from __future__ import annotations

from typing import Any

from atlas_sre.sim.images import ImageBehaviour
from atlas_sre.sim.kubelet.config import failing_requirement
from atlas_sre.sim.kubelet.runtime import render
from atlas_sre.sim.mesh.model import Response
from atlas_sre.sim.mesh.resolve import container_env
from atlas_sre.sim.mesh.world import Instance, World

REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable"}


def request_refusal(world: World, inst: Instance, container: dict[str, Any], beh: ImageBehaviour,
                    path: str, method: str) -> tuple[str, Response] | None:
    """(the app's log line, its answer) when a per-request requirement fails; None when it holds."""
    if not any(r.onFail == "request" for r in beh.requires):
        return None
    name = str(container.get("name", ""))
    env = container_env(world, inst.namespace, container, world.started(inst, name))
    failed = failing_requirement(beh, env, "request")
    if failed is None:
        return None
    req, seen = failed
    line = render(req.log, {"env": req.env, "value": seen, "status": str(req.status), "path": path,
                            "method": method, "container": name, "namespace": inst.namespace})
    return line, Response(req.status, body=REASONS.get(req.status, "error"), latency_ms=beh.latencyMs)

"""Start-up lines for images whose behaviour declares none: every server says it started.

A scenario's image behaviour often describes only what matters to its fault (maybe a request
line); without a start-up line, `kubectl logs` on a healthy container returned nothing, which reads as a hung process. A
real server logs at least its version and the address it listens on, so an image with no
`startup` and no `ready` line gets both, derived from its name, tag and first listen port: the
start line when the process starts, the listen line only once it really listens (the kubelet
writes `ready` at that moment, so a process that fails its start-up check never claims it).
Images that are silent by design (memcached logs nothing without `-v`) stay silent, and Istio's
images are left to the mesh stages, which write their lines.
"""

from __future__ import annotations

from atlas_sre.sim.images import ImageBehaviour

SILENT = frozenset({"memcached"})  # repositories whose default command writes no log line
# Istio's proxyv2 and pilot: the mesh stages write their lines, with Istio's own timestamps
WRITTEN_BY_MESH = frozenset({"proxyv2", "pilot"})


def _name_and_tag(image: str) -> tuple[str, str]:
    repo, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "latest")
    return repo.rsplit("/", 1)[-1], tag or "latest"


def with_startup_logs(image: str, behaviour: ImageBehaviour) -> ImageBehaviour:
    """`behaviour`, or a copy that logs a start and a listen line when it declares no lines at all."""
    logs = behaviour.logs
    name, tag = _name_and_tag(image)
    if logs.startup or logs.ready or name in SILENT | WRITTEN_BY_MESH:
        return behaviour
    ready = None
    if behaviour.listen:
        listen = behaviour.listen[0]
        kind = {"grpc": "gRPC server", "http": "HTTP server", "https": "HTTPS server"}.get(listen.protocol, "server")
        ready = f"{kind} listening on 0.0.0.0:{listen.port}"
    startup = [f"Starting {name} version {tag}"]
    return behaviour.model_copy(update={"logs": logs.model_copy(update={"startup": startup, "ready": ready})})

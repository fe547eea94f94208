"""Hidden image behaviour: what a container image does when it runs (the simulated registry).

Agents never see this. The engine reads it to decide whether a container starts, what it logs,
how much memory it uses, which paths answer health checks, and which services it calls. A fault
is a change to manifests or to this behaviour, never a scripted symptom.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Listen(_Model):
    """A port the process listens on once started."""

    port: int
    protocol: str = "http"


class Health(_Model):
    """The path that answers 200 for readiness and liveness checks."""

    path: str = "/health"
    port: int | None = None  # defaults to the first listen port


class Usage(_Model):
    """Steady resource use of one running container."""

    memoryMi: int = 64
    cpuMilli: int = 10
    memoryGrowthMiPerMin: float = 0.0  # a leak: memory rises until the limit kills it
    cpuMilliPerRps: float | None = None  # CPU per request/second served (None: the mesh default, 0.5)


class Address(_Model):
    """Where the process finds a dependency: an env var, a ConfigMap key it consumes, or a default."""

    env: str | None = None
    configKey: str | None = None
    default: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Address:
        if not (self.env or self.configKey or self.default):
            raise ValueError("address needs one of env, configKey, default")
        return self


class Call(_Model):
    """A request this service makes to a dependency for every request it serves."""

    name: str
    address: Address
    path: str = "/"
    method: str = "GET"  # the HTTP method the process sends
    protocol: str = "http"
    timeoutMs: int | None = None
    required: bool = True  # an optional call degrades the answer instead of failing it


class ServedRoute(_Model):
    """What the process does for one kind of request it serves (a path prefix, optionally one method).

    Unset fields fall back to the image's own `latencyMs` / `calls`.
    """

    path: str = "/"
    method: str | None = None
    latencyMs: float | None = None
    calls: list[Call] | None = None


class DependencyErrorPolicy(_Model):
    """How this service answers its own caller when a required dependency fails."""

    status: int = 503
    log: str = "ERROR call to {dependency} failed: {status}"


class Requirement(_Model):
    """An env var (literal, ConfigMap or Secret sourced) the process needs.

    `onFail: exit` (default): checked at start; a failed check writes `log` and exits with
    `exitCode`. `onFail: request`: the process starts and stays ready, and every request it serves
    fails with `status`, writing `log` (a bad database password is found only when it is used).
    """

    env: str
    equals: str | None = None
    matches: str | None = None
    log: str = "FATAL required environment variable {env} is not set"
    exitCode: int = 1
    onFail: Literal["exit", "request"] = "exit"
    status: int = 500


class ExitBehaviour(_Model):
    """A process that ends by itself: init containers, jobs, or a crash unrelated to config."""

    code: int = 0
    afterSeconds: float = 2.0
    log: str | None = None


class Episode(_Model):
    """A one-off moment in the process's past (scenario time, RFC 3339): every instance running then
    crashes with `exitCode` (writing `log`), or its memory jumps to `memoryMi`, which OOM-kills it
    when above the container's limit. The kubelet restarts it and the new instance runs normally:
    an old restart (`RESTARTS 1 (3h50m ago)`, `lastState.terminated`) on a pod that is fine now."""

    at: str
    exitCode: int | None = None
    memoryMi: int | None = None
    log: str | None = None


class LogTemplates(_Model):
    """Lines the process writes: at start, per served request, and when it becomes ready."""

    startup: list[str] = Field(default_factory=list)
    request: str | None = None
    ready: str | None = None


class ImageBehaviour(_Model):
    """Everything the simulator knows about one image tag."""

    entrypoint: list[str] = Field(default_factory=lambda: ["/app/server"])
    binaries: list[str] = Field(default_factory=list)  # other executables present in the image
    listen: list[Listen] = Field(default_factory=list)
    health: Health | None = None
    usage: Usage = Field(default_factory=Usage)
    latencyMs: float = 10.0
    startupSeconds: float = 3.0
    requires: list[Requirement] = Field(default_factory=list)
    calls: list[Call] = Field(default_factory=list)
    routes: list[ServedRoute] = Field(default_factory=list)  # per served path; the first match wins
    onDependencyError: DependencyErrorPolicy = Field(default_factory=DependencyErrorPolicy)
    exit: ExitBehaviour | None = None  # None: a long-running server
    hang: bool = False  # never becomes ready and never exits (a stuck init container)
    episodes: list[Episode] = Field(default_factory=list)  # one-off crashes / memory spikes in the past
    logs: LogTemplates = Field(default_factory=LogTemplates)

    def served(self, path: str, method: str) -> tuple[float, list[Call]]:
        """(latency, calls) for one served request: the first `routes` entry whose path prefix and
        method match, else the image's own."""
        for r in self.routes:
            if path.split("?", 1)[0].startswith(r.path) and r.method in (None, method):
                return (self.latencyMs if r.latencyMs is None else r.latencyMs,
                        self.calls if r.calls is None else r.calls)
        return self.latencyMs, self.calls

    def executables(self) -> set[str]:
        """Names a container `command` may start: the entrypoint and the listed binaries (with basenames)."""
        names = set(self.binaries) | set(self.entrypoint[:1])
        return names | {n.rsplit("/", 1)[-1] for n in names}


Registry = dict[str, ImageBehaviour]

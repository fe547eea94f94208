"""Hidden image behaviour: what a container image does when it runs (the simulated registry).

Agents never see this. The engine reads it to decide whether a container starts, what it logs,
how much memory it uses, which paths answer health checks, and which services it calls. A fault
is a change to manifests or to this behaviour, never a scripted symptom.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Bounds on every number and list the engine computes with: a scenario is untrusted data, and a
# NaN latency, a 1e308 leak rate or a port of 99999 must be refused when the file is read, not
# crash the derivation (scenarios/limits.py states the scenario-wide caps; docs: "Limits").
Port = Annotated[int, Field(ge=1, le=65535)]
MemoryMi = Annotated[int, Field(ge=0, le=16 * 1024 * 1024)]  # 16 TiB
CpuMilli = Annotated[int, Field(ge=0, le=1_000_000)]  # 1,000 cores
Rate = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
Millis = Annotated[float, Field(ge=0, le=3_600_000, allow_inf_nan=False)]  # one hour
Seconds = Annotated[float, Field(ge=0, le=30 * 24 * 3600, allow_inf_nan=False)]  # thirty days
ExitCode = Annotated[int, Field(ge=0, le=255)]
HttpStatus = Annotated[int, Field(ge=100, le=599)]
Text = Annotated[str, Field(max_length=65_536)]
Short = Annotated[str, Field(max_length=4096)]
MAX_ITEMS = 1_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Listen(_Model):
    """A port the process listens on once started."""

    port: Port
    protocol: Short = "http"


class Health(_Model):
    """The path that answers 200 for readiness and liveness checks."""

    path: Short = "/health"
    port: Port | None = None  # defaults to the first listen port


class Usage(_Model):
    """Steady resource use of one running container."""

    memoryMi: MemoryMi = 64
    cpuMilli: CpuMilli = 10
    memoryGrowthMiPerMin: Rate = 0.0  # a leak: memory rises until the limit kills it
    cpuMilliPerRps: Rate | None = None  # CPU per request/second served (None: the mesh default, 0.5)


class Address(_Model):
    """Where the process finds a dependency: an env var, a ConfigMap key it consumes, or a default."""

    env: Short | None = None
    configKey: Short | None = None
    default: Short | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Address:
        if not (self.env or self.configKey or self.default):
            raise ValueError("address needs one of env, configKey, default")
        return self


class Call(_Model):
    """A request this service makes to a dependency for every request it serves."""

    name: Short
    address: Address
    path: Short = "/"
    method: Annotated[str, Field(max_length=16)] = "GET"  # the HTTP method the process sends
    protocol: Short = "http"
    timeoutMs: Annotated[int, Field(ge=1, le=3_600_000)] | None = None
    required: bool = True  # an optional call degrades the answer instead of failing it


class ServedRoute(_Model):
    """What the process does for one kind of request it serves (a path prefix, optionally one method).

    Unset fields fall back to the image's own `latencyMs` / `calls`.
    """

    path: Short = "/"
    method: Annotated[str, Field(max_length=16)] | None = None
    latencyMs: Millis | None = None
    calls: list[Call] | None = Field(default=None, max_length=MAX_ITEMS)


class DependencyErrorPolicy(_Model):
    """How this service answers its own caller when a required dependency fails."""

    status: HttpStatus = 503
    log: Text = "ERROR call to {dependency} failed: {status}"


class Requirement(_Model):
    """An env var (literal, ConfigMap or Secret sourced) the process needs.

    `onFail: exit` (default): checked at start; a failed check writes `log` and exits with
    `exitCode`. `onFail: request`: the process starts and stays ready, and every request it serves
    fails with `status`, writing `log` (a bad database password is found only when it is used).
    """

    env: Short
    equals: Text | None = None
    matches: Short | None = None  # a regex (the scenario loader refuses ones that backtrack exponentially)
    log: Text = "FATAL required environment variable {env} is not set"
    exitCode: ExitCode = 1
    onFail: Literal["exit", "request"] = "exit"
    status: HttpStatus = 500


class ExitBehaviour(_Model):
    """A process that ends by itself: init containers, jobs, or a crash unrelated to config."""

    code: ExitCode = 0
    afterSeconds: Seconds = 2.0
    log: Text | None = None


class Episode(_Model):
    """A one-off moment in the process's past (scenario time, RFC 3339): every instance running then
    crashes with `exitCode` (writing `log`), or its memory jumps to `memoryMi`, which OOM-kills it
    when above the container's limit. The kubelet restarts it and the new instance runs normally:
    an old restart (`RESTARTS 1 (3h50m ago)`, `lastState.terminated`) on a pod that is fine now."""

    at: Annotated[str, Field(max_length=64)]  # checked as a scenario time by the scenario loader
    exitCode: ExitCode | None = None
    memoryMi: MemoryMi | None = None
    log: Text | None = None


class LogTemplates(_Model):
    """Lines the process writes: at start, per served request, and when it becomes ready."""

    startup: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    request: Text | None = None
    ready: Text | None = None


class ImageBehaviour(_Model):
    """Everything the simulator knows about one image tag."""

    entrypoint: list[Short] = Field(default_factory=lambda: ["/app/server"], max_length=MAX_ITEMS)
    binaries: list[Short] = Field(default_factory=list, max_length=MAX_ITEMS)  # other executables in the image
    listen: list[Listen] = Field(default_factory=list, max_length=MAX_ITEMS)
    health: Health | None = None
    usage: Usage = Field(default_factory=Usage)
    latencyMs: Millis = 10.0
    startupSeconds: Seconds = 3.0
    requires: list[Requirement] = Field(default_factory=list, max_length=MAX_ITEMS)
    calls: list[Call] = Field(default_factory=list, max_length=MAX_ITEMS)
    routes: list[ServedRoute] = Field(default_factory=list, max_length=MAX_ITEMS)  # per served path; first match wins
    onDependencyError: DependencyErrorPolicy = Field(default_factory=DependencyErrorPolicy)
    exit: ExitBehaviour | None = None  # None: a long-running server
    hang: bool = False  # never becomes ready and never exits (a stuck init container)
    episodes: list[Episode] = Field(default_factory=list, max_length=MAX_ITEMS)  # one-off crashes / spikes in the past
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

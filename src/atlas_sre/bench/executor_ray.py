"""Episodes as Ray tasks: `atlas-sre bench --executor ray [--ray-address ADDR]` (docs/ray.md).

Why a pool with `ProcessPool`'s interface: the scheduler (`runner._Scheduler`) stays the only
place that orders work — it submits a stage's episodes, appends each result to `results.jsonl` as
`next_done` hands it back, and consolidates the capsule stores when a stage is complete (the
barrier). Where an episode ran never changes what it computes, so a Ray run's numbers are the local
executor's, and a run started on one executor can be resumed on the other.

Why tasks carry bytes, not paths: on a multi-node cluster a worker does not see the driver's disk.
A task ships what the episode reads (its pinned scenario, its stage's capsule snapshot) and runs in
a temporary folder on the worker; the trace it writes comes back with the result and the driver
writes it where the local executor would have (`task.trace_path`). Ray is imported only here and
only when asked for: it is an optional dependency (`pip install 'atlas-sre[ray]'`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from atlas_sre.bench.config import EpisodeResult, EpisodeTask
from atlas_sre.capsules.pg import is_url

INSTALL_HINT = "ray is not installed: install it: pip install 'atlas-sre[ray]'"
CONNECT_TIMEOUT_S = 5.0
"""How long the address check waits: `ray.init` itself waits minutes for an unreachable head node."""

Execute = Callable[[Any, EpisodeTask], EpisodeResult]
"""The worker-side wrapper (`executor.execute_episode`), passed in so this module does not import
`executor` (which imports this one when asked for Ray)."""


class RayUnavailableError(ValueError):
    """Ray was asked for but is not installed: a usage error (exit 2), not a failed run."""


def import_ray() -> Any:
    """The `ray` module, or a one-line error that says how to install it."""
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(INSTALL_HINT) from None
    return ray


def check_address(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Refuse an unreachable `HOST:PORT` / `ray://HOST:PORT` in seconds (`auto` is Ray's to find).

    Why a plain TCP connect first: `ray.init` retries an unreachable GCS for minutes and then exits
    the process instead of raising.
    """
    if address in ("auto", "local"):
        return
    target = address[len("ray://"):] if address.startswith("ray://") else address
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"--ray-address {address!r}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConnectionError(f"--ray-address {address}: cannot reach {host}:{port} "
                              f"({exc.strerror or type(exc).__name__})") from None


def connect(ray: Any, workers: int, address: str | None) -> bool:
    """Join (or start) Ray; True when this call did, so the pool disconnects (or stops it) at the end.

    No address: a local Ray with `workers` CPU slots (one episode each), no dashboard, worker logs
    kept out of the progress bar. An address: the driver joins that cluster, whose nodes decide the
    slots. An already initialized Ray (a notebook, a test) is used as it is and left running.
    """
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a benchmark does not phone home
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
    if address:
        check_address(address)
        try:
            ray.init(address=address, **options)
        except (ConnectionError, TimeoutError, ValueError) as exc:  # ValueError: ray:// without ray[client]
            raise ConnectionError(f"--ray-address {address}: {str(exc).splitlines()[0]}") from None
    else:
        ray.init(address="local", num_cpus=max(workers, 1), include_dashboard=False, **options)
    return True


# --- worker side -----------------------------------------------------------------------------------


def pack(path: Path) -> dict[str, bytes]:
    """A file or folder as `{relative path: bytes}`, its own name as the first component."""
    if path.is_dir():
        return {p.relative_to(path.parent).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    return {path.name: path.read_bytes()} if path.is_file() else {}


def unpack(files: dict[str, bytes], dst: Path) -> Path:
    """Write a `pack` under `dst`; the path of the packed file or folder there."""
    for name, data in files.items():
        target = dst / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dst / next(iter(files)).split("/", 1)[0]


def localize(task: EpisodeTask, workdir: Path, scenario: dict[str, bytes], store: bytes | None) -> EpisodeTask:
    """The task as this worker runs it: every path it reads or writes inside `workdir`.

    The run folder is mirrored (`workdir/run`), so a trace under it keeps its relative name.
    """
    run_dir = workdir / "run"
    run_dir.mkdir()
    update: dict[str, Any] = {"run_dir": str(run_dir)}
    if task.trace_path:
        trace = Path(task.trace_path)
        inside = trace.is_relative_to(task.run_dir)
        update["trace_path"] = str(run_dir / trace.relative_to(task.run_dir) if inside else workdir / trace.name)
    if scenario:
        path = unpack(scenario, workdir / "scenario")
        update["scenario"] = task.scenario.model_copy(update={"path": str(path)})
    if store is not None:
        (workdir / "store.sqlite").write_bytes(store)
        update["capsule_store"] = str(workdir / "store.sqlite")
    return task.model_copy(update=update)


def restore_trace(raw: bytes, task: EpisodeTask) -> bytes:
    """The trace as the local executor writes it: its task's paths are the driver's, not the worker's."""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(data, dict) and isinstance(data.get("task"), dict):
        data["task"].update(run_dir=task.run_dir, trace_path=task.trace_path)
        if isinstance(data["task"].get("scenario"), dict):
            data["task"]["scenario"]["path"] = task.scenario.path
        return (json.dumps(data, default=str) + "\n").encode("utf-8")
    return raw


def run_shipped(execute: Execute, runner: Any, task: EpisodeTask, scenario: dict[str, bytes],
                store: bytes | None) -> tuple[EpisodeResult, bytes | None]:
    """The Ray task: run one episode in a private folder; its result and its trace file's bytes."""
    workdir = Path(tempfile.mkdtemp(prefix="atlas-sre-ray-"))
    try:
        local = localize(task, workdir, scenario, store)
        result = execute(runner, local)
        trace = Path(local.trace_path) if local.trace_path else None
        return result, restore_trace(trace.read_bytes(), task) if trace and trace.is_file() else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- driver side -----------------------------------------------------------------------------------


class RayPool:
    """`ProcessPool`'s interface over Ray tasks: submit, busy, next_done (streaming), close."""

    def __init__(self, runner: Any, workers: int, address: str | None, execute: Execute) -> None:
        self._ray = ray = import_ray()
        self._started = connect(ray, workers, address)
        # max_retries=0: a worker that dies ends the run, as a dead process does in `ProcessPool`
        # (an episode that kills its worker would kill every retry too); resuming reruns it.
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_shipped)
        self._execute, self._runner = execute, ray.put(runner)
        self._shipped: dict[tuple[str, int, int], Any] = {}
        self._refs: dict[Any, EpisodeTask] = {}
        self._failure: BaseException | None = None

    def _ship(self, path: str, reader: Callable[[Path], Any]) -> Any:
        """One object-store copy per file version, shared by every task that reads it."""
        stat = Path(path).stat()
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in self._shipped:
            self._shipped[key] = self._ray.put(reader(Path(path)))
        return self._shipped[key]

    def submit(self, task: EpisodeTask) -> None:
        scenario = self._ship(task.scenario.path, pack) if Path(task.scenario.path).exists() else {}
        store = None
        if task.capsule_store and not is_url(task.capsule_store):  # a PostgreSQL URL travels as it is
            store = self._ship(task.capsule_store, Path.read_bytes)
        ref = self._remote.remote(self._execute, self._runner, task, scenario, store)
        self._refs[ref] = task

    @property
    def busy(self) -> bool:
        return bool(self._refs) or self._failure is not None

    def next_done(self) -> list[tuple[EpisodeTask, EpisodeResult]]:
        """Finished episodes (at least one), by key; a failure raises after the good ones are out."""
        if self._failure is not None:
            raise self._failure
        refs = list(self._refs)
        self._ray.wait(refs, num_returns=1)
        ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=0)
        out: list[tuple[EpisodeTask, EpisodeResult]] = []
        failure: BaseException | None = None
        for ref in sorted(ready, key=lambda r: self._refs[r].key):
            task = self._refs.pop(ref)
            try:
                result, trace = self._ray.get(ref)
            except Exception as exc:  # a task that raised past `execute_episode`, a dead worker, a lost node
                failure = failure or self._cause(exc)
                continue
            out.append((task, self._land(task, result, trace)))
        if failure is not None and not out:
            raise failure
        self._failure = failure  # raised on the next call, once the good results are written
        return out

    def _cause(self, exc: Exception) -> BaseException:
        """What the task raised when it was a crash (`BaseException`), as `ProcessPool` re-raises it."""
        cause = getattr(exc, "cause", None)
        if isinstance(exc, self._ray.exceptions.RayTaskError) and isinstance(cause, BaseException) \
                and not isinstance(cause, Exception):
            return cause
        return exc

    @staticmethod
    def _land(task: EpisodeTask, result: EpisodeResult, trace: bytes | None) -> EpisodeResult:
        """Write the worker's trace where the local executor would have; the result names it the same way."""
        if trace is not None and task.trace_path:
            path = Path(task.trace_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(trace)
            if result.trace is not None:
                result.trace = str(path.relative_to(task.run_dir)) if path.is_relative_to(task.run_dir) else str(path)
        return result

    def close(self) -> None:
        """Cancel what still runs (a failed run), then stop or leave the Ray this pool started."""
        for ref in list(self._refs):
            with contextlib.suppress(Exception):  # already finished or its worker gone: nothing left to cancel
                self._ray.cancel(ref)
        self._refs.clear()
        self._shipped.clear()
        if self._started:
            self._ray.shutdown()
            self._started = False

"""Running episodes: the `EpisodeRunner` seam, the worker-side wrapper, serial and process pools.

Why a seam: the runner's logic (ordering, resume, consolidation, reports) is tested with a fake
episode function in milliseconds, while the real one (`episode.ProtocolEpisodeRunner`)
drives `ATLASInference` against a simulator. Whatever the episode function raises (`Exception`)
becomes an `error` record — one broken incident never stops a benchmark. Only a `BaseException`
(Ctrl-C, a simulated crash) or a dead worker process ends the run, and then `results.jsonl`
already holds every episode that finished.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import time
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from atlas_sre.bench.config import EpisodeResult, EpisodeTask
from atlas_sre.bench.results import private_copy


@runtime_checkable
class EpisodeRunner(Protocol):
    """Turns one episode task into its result. Must be picklable (it is sent to spawn workers)."""

    def run(self, task: EpisodeTask) -> EpisodeResult: ...


Consolidator = Callable[[Any, dict[str, Any]], Any]
"""`(store, episode_record) -> Capsule | None`: learn from one graded, taught episode."""


def error_result(task: EpisodeTask, exc: BaseException, wall_s: float) -> EpisodeResult:
    """The record of an episode whose function raised: outcome `error`, one-line message."""
    lines = traceback.format_exception_only(type(exc), exc)
    message = (lines[-1] if lines else repr(exc)).strip().replace("\n", " ")
    m = task.scenario
    return EpisodeResult(
        key=task.key, phase=task.phase, scenario=m.name, faults=m.faults, category=m.category,
        complexity=m.complexity, domain=m.domain, mode=task.mode, iteration=task.iteration,
        repeat=task.repeat, seed=task.seed, outcome="error", message=message[:500], wall_s=round(wall_s, 3),
    )


def execute_episode(runner: EpisodeRunner, task: EpisodeTask) -> EpisodeResult:
    """Worker-side wrapper: private capsule copy, timing, exceptions → `error` records."""
    workdir = Path(tempfile.mkdtemp(prefix="atlas-sre-episode-"))
    started = time.perf_counter()
    try:
        if task.capsule_store:
            task = task.model_copy(update={"capsule_store": private_copy(task.capsule_store, workdir)})
        try:
            result = runner.run(task)
        except Exception as exc:  # an episode's failure is a result, not the run's end
            return error_result(task, exc, time.perf_counter() - started)
        if not result.wall_s:
            result.wall_s = round(time.perf_counter() - started, 3)
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class Pool(Protocol):
    """What the scheduler drives: `SerialPool`, `ProcessPool` or `executor_ray.RayPool`."""

    def submit(self, task: EpisodeTask) -> None: ...

    @property
    def busy(self) -> bool: ...

    def next_done(self) -> list[tuple[EpisodeTask, EpisodeResult]]: ...

    def close(self) -> None: ...


class SerialPool:
    """Runs episodes one at a time in this process, each only when the caller asks for a result.

    Lazy on purpose: results are handed back (and written) one by one, so a crash in the
    serial path also loses only the running episode.
    """

    def __init__(self, runner: EpisodeRunner) -> None:
        self.runner = runner
        self._queue: deque[EpisodeTask] = deque()

    def submit(self, task: EpisodeTask) -> None:
        self._queue.append(task)

    @property
    def busy(self) -> bool:
        return bool(self._queue)

    def next_done(self) -> list[tuple[EpisodeTask, EpisodeResult]]:
        task = self._queue.popleft()
        return [(task, execute_episode(self.runner, task))]

    def close(self) -> None:
        self._queue.clear()


class ProcessPool:
    """`workers` spawn-started processes (no inherited sockets, locks or SQLite handles)."""

    def __init__(self, runner: EpisodeRunner, workers: int) -> None:
        self.runner = runner
        self._executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        self._futures: dict[Future[EpisodeResult], EpisodeTask] = {}
        self._failure: BaseException | None = None

    def submit(self, task: EpisodeTask) -> None:
        self._futures[self._executor.submit(execute_episode, self.runner, task)] = task

    @property
    def busy(self) -> bool:
        return bool(self._futures) or self._failure is not None

    def next_done(self) -> list[tuple[EpisodeTask, EpisodeResult]]:
        """Finished episodes (at least one), by key; a dead worker raises after the good ones are out."""
        if self._failure is not None:
            raise self._failure
        finished, _ = wait(list(self._futures), return_when=FIRST_COMPLETED)
        out: list[tuple[EpisodeTask, EpisodeResult]] = []
        failure: BaseException | None = None
        for fut in sorted(finished, key=lambda f: self._futures[f].key):
            task = self._futures.pop(fut)
            exc = fut.exception()
            if exc is None:
                out.append((task, fut.result()))
            else:
                failure = failure or exc
        if failure is not None and not out:
            raise failure
        self._failure = failure  # raised on the next call, once the good results are written
        return out

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


EXECUTORS: tuple[str, ...] = ("local", "ray")


def check_executor(executor: str, ray_address: str | None) -> None:
    """A known executor, and an address only for Ray (a local run given one would silently ignore it)."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}: valid executors are {', '.join(EXECUTORS)}")
    if ray_address and executor != "ray":
        raise ValueError("--ray-address needs --executor ray")


def make_pool(runner: EpisodeRunner, workers: int, executor: str = "local", ray_address: str | None = None) -> Pool:
    """Local: serial in-process for one worker (fast start, easy debugging), spawn processes otherwise.
    Ray: episodes as Ray tasks (`executor_ray.RayPool`; a local Ray with `workers` slots, or the cluster
    at `ray_address`). Every pool has the same interface: submit, busy, next_done, close."""
    check_executor(executor, ray_address)
    if executor == "ray":
        from atlas_sre.bench.executor_ray import RayPool  # optional dependency: imported only when asked for

        return RayPool(runner, workers, ray_address, execute_episode)
    return SerialPool(runner) if workers <= 1 else ProcessPool(runner, workers)

"""One container's life from its first start attempt to the observation instant.

The kubelet's loops are replayed with its real timers (all in ms from the pod's start):

- image pulls fail and back off 10s, 20s, ... 300s (`flowcontrol.Backoff`, keyed by pod+image);
- a crashed container restarts at once the first time, then after 10s, 20s, ... capped at 300s,
  reset when two crashes are more than 10 minutes apart (`hasExpired` = 2 x max back-off);
- the pod worker re-syncs a failing pod every ~12.5s (10-15s jitter, its mean): that is when
  back-off is re-checked, and when BackOff / CreateContainerConfigError events repeat;
- after a crash the status shows the terminated state until the next sync, then
  `CrashLoopBackOff` (what makes `kubectl get` show Error/OOMKilled/Completed in between).

Long loops are periodic once the back-off saturates; a detected period is skipped in one step
and its events are repeated as lattices, so ten days of crash loop cost the same as ten minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from atlas_sre.sim.clock import UTC, SimClock, parse_time
from atlas_sre.sim.images import Episode, ImageBehaviour, Registry
from atlas_sre.sim.kubelet import images as img
from atlas_sre.sim.kubelet.config import ConfigIndex, PodFacts, resolve_env
from atlas_sre.sim.kubelet.events import PodEvents
from atlas_sre.sim.kubelet.runtime import OOM_EXIT_CODE, RunProfile, memory_limit_mi, render, run_profile

Obj = dict[str, Any]
SYNC_MS = 12_500
PLEG_MS = 1_000
CREATED_MS = 60
STARTED_MS = 120
START_ERROR_MS = 90
BACKOFF_BASE_MS = 10_000
BACKOFF_MAX_MS = 300_000
BACKOFF_RESET_MS = 600_000
BIG = 10**9


@dataclass
class Instance:
    """One container instance: `number` is also the restartCount while it is the latest."""

    number: int
    created: int
    started: int | None  # None: it never started (StartError)
    finished: int | None  # None: running at the horizon
    profile: RunProfile


@dataclass
class ContainerRun:
    """Everything the status, logs and usage need about one container."""

    container: Obj
    kind: str  # "init" | "sidecar" | "app"
    behaviour: ImageBehaviour | None
    instances: list[Instance] = field(default_factory=list)
    total: int = 0
    waiting: tuple[str, str | None] | None = None
    terminated_shown: bool = False
    done_at: int | None = None  # init: exited 0; sidecar: started

    @property
    def name(self) -> str:
        return str(self.container.get("name", ""))

    @property
    def restarts(self) -> int:
        return max(0, self.total - 1)


@dataclass
class PodContext:
    """Per-pod facts and sinks shared by every container's timeline."""

    facts: PodFacts
    start: datetime
    horizon: int
    registry: Registry
    index: ConfigIndex
    events: PodEvents
    present: Callable[[str], bool]
    restart_policy: str
    grace_ms: int
    pod_label: str  # format.Pod: name_namespace(uid)
    clock: SimClock
    _profiles: dict[tuple[str, int], tuple[dict[str, str], str | None, RunProfile | None]] = field(default_factory=dict)

    def at(self, ms: int) -> datetime:
        return self.start + timedelta(milliseconds=ms)

    def iso(self, ms: int) -> str:
        """A time in the pod's ms as Kubernetes renders timestamps (what `SimClock.iso` prints)."""
        t = self.clock.at(self.at(ms)).astimezone(UTC)
        return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"

    def ms(self, t: datetime) -> int:
        return int((t - self.start).total_seconds() * 1000)

    def epoch(self, ms: int) -> int:
        if not self.index.changes.get(self.facts.namespace):
            return 0
        return self.index.epoch(self.facts.namespace, self.at(ms))

    def next_change(self, ms: int) -> int | None:
        if not self.index.changes.get(self.facts.namespace):
            return None
        nxt = self.index.next_change(self.facts.namespace, self.at(ms))
        return None if nxt is None else self.ms(nxt)

    def values(self, container: Obj, behaviour: ImageBehaviour) -> dict[str, str]:
        port = str(behaviour.listen[0].port) if behaviour.listen else ""
        f = self.facts
        return {"pod": f.name, "namespace": f.namespace, "container": str(container.get("name", "")),
                "port": port, "node": f.node}

    def setup(self, container: Obj, kind: str, behaviour: ImageBehaviour, ms: int
              ) -> tuple[dict[str, str], str | None, RunProfile | None]:
        """(env, config error, profile) for an instance created at `ms`, cached per config epoch."""
        key = (str(container.get("name")), self.epoch(ms))
        hit = self._profiles.get(key)
        if hit is None:
            env, err = resolve_env(container, self.facts, self.index, self.at(ms))
            prof = None if err else run_profile(container, behaviour, env, self.facts.pod_ip, self.grace_ms,
                                                self.values(container, behaviour), with_probes=kind != "init")
            hit = self._profiles[key] = (env, err, prof)
        return hit


def _field_path(run: ContainerRun) -> str:
    return f"spec.{'containers' if run.kind == 'app' else 'initContainers'}{{{run.name}}}"


def _image_events(ctx: PodContext, run: ContainerRun, x: int, fresh: bool, period: int = 0, n: int = 1) -> int:
    """Image events of a start attempt at `x` (repeated n times); returns the pull time in ms."""
    image, fp, ev = str(run.container.get("image", "")), _field_path(run), ctx.events
    if img.pull_policy(run.container) == "Always" or fresh:
        took = img.pull_ms(image) if fresh else img.repull_ms(image)
        ev.add(x, "Normal", "Pulling", img.msg_pulling(image), fp, period, n)
        ev.add(x + took, "Normal", "Pulled", img.msg_pulled(image, took, took), fp, period, n)
        return took
    ev.add(x, "Normal", "Pulled", img.msg_present(image), fp, period, n)
    return 0


def _pull_failure_loop(ctx: PodContext, run: ContainerRun, x: int) -> None:
    """An image the registry does not have: pull, fail, back off, forever."""
    image, fp, ev = str(run.container.get("image", "")), _field_path(run), ctx.events
    took, backoff, a, last_fail = img.fail_ms(image), 0, x, None
    while a <= ctx.horizon:
        mark = ev.mark()
        f = a + took
        ev.add(a, "Normal", "Pulling", img.msg_pulling(image), fp)
        ev.add(f, "Warning", "Failed", img.msg_failed_pull(image), fp)
        ev.add(f + 1, "Warning", "Failed", "Error: ErrImagePull", fp)
        if f <= ctx.horizon:
            last_fail = f
        backoff = BACKOFF_BASE_MS if not backoff else min(2 * backoff, BACKOFF_MAX_MS)
        j = -(-backoff // SYNC_MS)
        ev.add(f + SYNC_MS, "Normal", "BackOff", img.msg_backoff_pull(image), fp, SYNC_MS, j - 1)
        ev.add(f + SYNC_MS + 1, "Warning", "Failed", "Error: ImagePullBackOff", fp, SYNC_MS, j - 1)
        nxt = f + j * SYNC_MS
        if backoff == BACKOFF_MAX_MS:
            cycle = nxt - a
            skip = (ctx.horizon - nxt) // cycle - 1
            if skip > 0:
                ev.repeat(mark, cycle, skip)
                nxt += skip * cycle
        a = nxt
    if last_fail is None:
        run.waiting = ("ContainerCreating", None)
    elif ctx.horizon < last_fail + SYNC_MS:
        run.waiting = ("ErrImagePull", img.pull_error(image))
    else:
        run.waiting = ("ImagePullBackOff", img.waiting_backoff_message(image))


def _never_pull(ctx: PodContext, run: ContainerRun, x: int) -> None:
    image, fp = str(run.container.get("image", "")), _field_path(run)
    msg = img.msg_never_pull(image)
    ctx.events.add(x, "Warning", "ErrImageNeverPull", msg, fp, SYNC_MS, BIG)
    ctx.events.add(x + 1, "Warning", "Failed", "Error: ErrImageNeverPull", fp, SYNC_MS, BIG)
    run.waiting = ("ErrImageNeverPull", msg)


def _restarts(ctx: PodContext, run: ContainerRun, prof: RunProfile) -> bool:
    if run.kind == "sidecar":
        return True
    policy = ctx.restart_policy
    if run.kind == "init":
        return policy != "Never" and not prof.completes()
    return policy == "Always" or (policy == "OnFailure" and prof.exit_code != 0)


def _create(ctx: PodContext, run: ContainerRun, y: int, prof: RunProfile) -> Instance:
    """Create and start one instance whose image step ended at `y`; emits its own events."""
    ev, fp, name = ctx.events, _field_path(run), run.name
    created = y + CREATED_MS
    ev.add(created, "Normal", "Created", f"Created container: {name}", fp)
    if prof.start_error:
        finished = y + START_ERROR_MS
        ev.add(finished, "Warning", "Failed", f"Error: {prof.start_error}", fp)
        return Instance(run.total, created, None, finished, prof)
    s = y + STARTED_MS
    ev.add(s, "Normal", "Started", f"Started container {name}", fp)
    for message, first, period, n in prof.probes.failures:
        ev.add(s + first, "Warning", "Unhealthy", message, fp, period, n)
    if prof.kill_at is not None:
        ev.add(s + prof.kill_at, "Normal", "Killing",
               f"Container {name} failed {prof.probes.kill_kind} probe, will be restarted", fp)
    if run.kind == "sidecar" and prof.started_after is not None and run.done_at is None:
        run.done_at = s + prof.started_after
    return _episode(ctx, run, Instance(run.total, created, s, None if prof.end_after is None else s + prof.end_after,
                                       prof))


def _episode_times(ctx: PodContext, run: ContainerRun) -> list[tuple[int, Episode]]:
    beh = run.behaviour
    if beh is None or not beh.episodes:
        return []
    return sorted(((ctx.ms(parse_time(e.at)), e) for e in beh.episodes), key=lambda te: te[0])


def _episode(ctx: PodContext, run: ContainerRun, inst: Instance) -> Instance:
    """The instance cut short by the first episode that strikes while it runs (a crash, an OOM kill)."""
    if inst.started is None:
        return inst
    limit = memory_limit_mi(run.container)
    for t, ep in _episode_times(ctx, run):
        if t <= inst.started:
            continue
        if inst.finished is not None and t >= inst.finished:
            break
        if ep.exitCode is not None:
            code, reason = ep.exitCode, "Completed" if ep.exitCode == 0 else "Error"
            log = render(ep.log, ctx.values(run.container, run.behaviour)) if ep.log and run.behaviour else None
        elif ep.memoryMi is not None and limit is not None and ep.memoryMi > limit:
            code, reason, log = OOM_EXIT_CODE, "OOMKilled", None
        else:
            continue
        prof = replace(inst.profile, end_after=t - inst.started, exit_code=code, reason=reason, fail_log=log,
                       kill_at=None)
        return Instance(inst.number, inst.created, inst.started, t, prof)
    return inst


def simulate(ctx: PodContext, container: Obj, kind: str, x0: int) -> ContainerRun:
    """The container's timeline from its first start attempt at `x0` (ms) to the horizon."""
    behaviour = ctx.registry.get(str(container.get("image", "")))
    run = ContainerRun(container, kind, behaviour)
    image = str(container.get("image", ""))
    if img.pull_policy(container) == "Never" and (behaviour is None or not ctx.present(image)):
        _never_pull(ctx, run, x0)
        return run
    if behaviour is None:
        _pull_failure_loop(ctx, run, x0)
        return run
    ev, fp = ctx.events, _field_path(run)
    x, fresh = x0, not ctx.present(image)
    backoff, last_update = 0, 0
    seen: dict[tuple[int, int, int], tuple[int, int, int]] = {}
    while True:
        if run.total:
            key = (ctx.epoch(x), backoff, x - last_update)
            if key in seen:
                total_i, x_i, mark_i = seen[key]
                cycle, per = x - x_i, run.total - total_i
                bound = min(ctx.horizon, ctx.next_change(x) or ctx.horizon,
                            *(t for t, _ in _episode_times(ctx, run) if t > x))
                skip = (bound - x) // cycle - 2
                if skip > 0:
                    ev.repeat(mark_i, cycle, skip)
                    x, last_update, run.total = x + skip * cycle, last_update + skip * cycle, run.total + skip * per
                seen.clear()
            seen[key] = (run.total, x, ev.mark())
        y = x + _image_events(ctx, run, x, fresh)
        fresh = False
        env, err, prof = ctx.setup(container, kind, behaviour, y)
        while err is not None:
            change = ctx.next_change(y)
            retries = BIG if change is None or change > ctx.horizon else -(-(change - x) // SYNC_MS)
            ev.add(y, "Warning", "Failed", f"Error: {err}", fp, SYNC_MS, retries)
            _image_events(ctx, run, x + SYNC_MS, False, SYNC_MS, retries - 1)
            if retries == BIG:
                run.waiting = ("CreateContainerConfigError", err)
                return run
            x += retries * SYNC_MS
            y = x + _image_events(ctx, run, x, False)
            env, err, prof = ctx.setup(container, kind, behaviour, y)
        assert prof is not None
        inst = _create(ctx, run, y, prof)
        run.instances.append(inst)
        run.instances = run.instances[-3:]
        run.total += 1
        if inst.finished is None or inst.finished > ctx.horizon:
            inst.finished = None
            return run
        if not _restarts(ctx, run, inst.profile):
            run.terminated_shown = True
            if kind == "init" and inst.profile.completes():
                run.done_at = inst.finished
            return run
        f = inst.finished
        if not backoff or f - last_update > BACKOFF_RESET_MS:
            current, backoff, last_update, restart = 0, BACKOFF_BASE_MS, f, f + PLEG_MS
        else:
            j = -(-backoff // SYNC_MS)
            ev.add(f + PLEG_MS, "Warning", "BackOff",
                   f"Back-off restarting failed container {run.name} in pod {ctx.pod_label}", fp, SYNC_MS, j)
            current, restart = backoff, f + PLEG_MS + j * SYNC_MS
            backoff, last_update = min(2 * backoff, BACKOFF_MAX_MS), f
        if restart > ctx.horizon:
            if not current or ctx.horizon < f + PLEG_MS + SYNC_MS:
                run.terminated_shown = True
            else:
                run.waiting = ("CrashLoopBackOff", f"back-off {img.go_duration(current)} restarting failed "
                               f"container={run.name} pod={ctx.pod_label}")
            return run
        x = restart

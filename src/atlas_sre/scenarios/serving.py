"""Serving a scenario: load it, derive its cluster, serve it to kubectl (`atlas-sre sim serve`).

The simulator's API server (`sim.api.serve.SimServer`) serves any derived state and knows nothing
about scenarios; this module is the scenario-facing side: which scenario, anchored at which
instant, and which namespace kubectl should default to.
"""

from __future__ import annotations

import shlex
import signal
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from atlas_sre.kube.namespaces import NON_APP_NAMESPACES
from atlas_sre.scenarios.catalog import find
from atlas_sre.scenarios.compile import to_sim_spec
from atlas_sre.scenarios.loader import load_path
from atlas_sre.scenarios.model import scenario_time
from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.engine import derive


def main_namespace(scenario: Any) -> str | None:
    """The namespace an SRE would default to: the alerts', else the one most manifests live in."""
    for alert in scenario.spec.incident.alerts:
        ns = (alert.model_extra or {}).get("namespace")
        if ns:
            return str(ns)
    counts = Counter(
        m.get("metadata", {}).get("namespace") for m in scenario.spec.manifests
        if m.get("metadata", {}).get("namespace") not in (None, *NON_APP_NAMESPACES)
    )
    if counts:
        return str(counts.most_common(1)[0][0])
    names = [m["metadata"]["name"] for m in scenario.spec.manifests
             if m.get("kind") == "Namespace" and m.get("metadata", {}).get("name") not in NON_APP_NAMESPACES]
    return names[0] if names else None


def _say(message: str) -> None:
    sys.stderr.write(f"atlas-sre sim: {message}\n")
    sys.stderr.flush()


def _now(value: str) -> datetime:
    """`--now` as an anchor, bounded like every scenario time (a year 9999 anchor would overflow)."""
    try:
        return scenario_time(value)
    except ValueError as exc:
        raise ValueError(f"--now: {exc}") from None


def build_state(scenario: str, now: str | None = None) -> tuple[Any, str | None]:
    """Load a scenario (path or built-in name), anchor its clock, derive the cluster.

    Without `now` the clock is anchored to the wall clock and live: served, its ages advance.
    """
    loaded = load_path(find(scenario))
    anchor = _now(now) if now else datetime.now(timezone.utc).replace(microsecond=0)
    spec = to_sim_spec(loaded, anchor)
    spec.clock = spec.clock.anchored(anchor, live=not now)  # on the wall clock, time moves on
    return derive(spec), main_namespace(loaded)


def serve_forever_cli(scenario: str, port: int = 0, kubeconfig: str | None = None, now: str | None = None) -> int:
    """`atlas-sre sim serve`: print `export KUBECONFIG=...` on stdout, serve until SIGINT/SIGTERM.

    `now` (RFC 3339) anchors the observation instant to a fixed time, making every answer
    byte-identical across runs; without it the scenario is anchored to the start time and served
    live: table ages advance with the wall clock, as the ages kubectl computes itself do. Returns
    the process exit code.
    """
    started = time.monotonic()
    try:
        state, namespace = build_state(scenario, now)
    except ValueError as exc:  # ScenarioError and bad --now values
        _say(f"error: {exc}")
        return 2
    stop = threading.Event()
    try:
        sim = SimServer(state, port=port, kubeconfig_path=kubeconfig, namespace=namespace).start()
    except (OSError, OverflowError) as exc:
        _say(f"error: cannot listen on 127.0.0.1:{port}: {getattr(exc, 'strerror', None) or exc}")
        return 2 if isinstance(exc, OverflowError) else 1
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"export KUBECONFIG={shlex.quote(str(sim.kubeconfig_path))}", flush=True)
        _say(f"serving {scenario} at {sim.url} (namespace {namespace or 'default'}, "
             f"ready in {time.monotonic() - started:.2f}s); Ctrl-C to stop")
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _say("stopped")
    return 0

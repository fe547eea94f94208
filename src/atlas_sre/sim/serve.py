"""Serving a derived cluster: `SimServer` for code and tests, `serve_forever_cli` for the CLI.

Start-up is kept short (kubectl should answer within a second of launch), so only what serving
needs is imported here; the scenario pipeline is imported inside `serve_forever_cli`.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from atlas_sre.sim.kubeconfig import write_kubeconfig
from atlas_sre.sim.server import SimAPIServer, make_server

SYSTEM_NAMESPACES = {"kube-system", "kube-public", "kube-node-lease", "istio-system", "default"}


def episode_id(state: Any) -> str:
    """A short id derived from what is served: the same state gives the same URL, another state another."""
    h = hashlib.sha256(state.clock.now.isoformat().encode())
    h.update(json.dumps(state.objects, sort_keys=True, default=str).encode())
    return h.hexdigest()[:12]


class SimServer:
    """Serve a ClusterState on 127.0.0.1 in a background thread, with a kubeconfig pointing at it.

    `with SimServer(state, namespace="shop") as sim: run kubectl --kubeconfig sim.kubeconfig_path`.
    """

    def __init__(self, state: Any, port: int = 0, kubeconfig_path: str | Path | None = None,
                 namespace: str | None = None, episode: str | None = None, verbose: bool = False) -> None:
        self.state = state
        self.namespace = namespace
        self._port = port
        self._kubeconfig = Path(kubeconfig_path) if kubeconfig_path else None
        self._episode = episode
        self._verbose = verbose
        self._server: SimAPIServer | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: str | None = None

    def start(self) -> SimServer:
        """Bind, start serving, write the kubeconfig; returns self."""
        episode = self._episode or episode_id(self.state)
        self._server = make_server(self.state, port=self._port, prefix=f"clusters/{episode}", verbose=self._verbose)
        self._thread = threading.Thread(target=self._server.serve_forever, name="sim-api", daemon=True)
        self._thread.start()
        if self._kubeconfig is None:
            self._tmpdir = tempfile.mkdtemp(prefix="atlas-sre-sim-")
            self._kubeconfig = Path(self._tmpdir) / "kubeconfig"
        write_kubeconfig(self._kubeconfig, self._server.url, self.namespace)
        return self

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>/clusters/<episode-id>`."""
        if self._server is None:
            raise RuntimeError("SimServer is not started")
        return self._server.url

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SimServer is not started")
        return self._server.port

    @property
    def kubeconfig_path(self) -> Path:
        if self._kubeconfig is None:
            raise RuntimeError("SimServer is not started")
        return self._kubeconfig

    def stop(self) -> None:
        """Stop serving and remove the kubeconfig if this server created its folder."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main_namespace(scenario: Any) -> str | None:
    """The namespace an SRE would default to: the alerts', else the one most manifests live in."""
    for alert in scenario.spec.incident.alerts:
        ns = (alert.model_extra or {}).get("namespace")
        if ns:
            return str(ns)
    counts = Counter(
        m.get("metadata", {}).get("namespace") for m in scenario.spec.manifests
        if m.get("metadata", {}).get("namespace") not in (None, *SYSTEM_NAMESPACES)
    )
    if counts:
        return str(counts.most_common(1)[0][0])
    names = [m["metadata"]["name"] for m in scenario.spec.manifests
             if m.get("kind") == "Namespace" and m.get("metadata", {}).get("name") not in SYSTEM_NAMESPACES]
    return names[0] if names else None


def _say(message: str) -> None:
    sys.stderr.write(f"atlas-sre sim: {message}\n")
    sys.stderr.flush()


def build_state(scenario: str, now: str | None = None) -> tuple[Any, str | None]:
    """Load a scenario (path or built-in name), anchor its clock, derive the cluster."""
    from datetime import datetime, timezone

    from atlas_sre.scenarios.compile import to_sim_spec
    from atlas_sre.scenarios.loader import load_path
    from atlas_sre.sim.clock import parse_time
    from atlas_sre.sim.engine import derive

    try:
        from atlas_sre.scenarios.catalog import find
    except ImportError:
        path = Path(scenario)
    else:
        path = find(scenario)
    loaded = load_path(path)
    anchor = parse_time(now) if now else datetime.now(timezone.utc).replace(microsecond=0)
    return derive(to_sim_spec(loaded, anchor)), main_namespace(loaded)


def serve_forever_cli(scenario: str, port: int = 0, kubeconfig: str | None = None, now: str | None = None) -> int:
    """`atlas-sre sim serve`: print `export KUBECONFIG=...` on stdout, serve until SIGINT/SIGTERM.

    `now` (RFC 3339) anchors the observation instant to a fixed time, making every answer
    byte-identical across runs; without it the scenario is anchored to the start time, so the
    ages kubectl computes itself read true. Returns the process exit code.
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
    except OSError as exc:
        _say(f"error: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}")
        return 1
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

"""Serving a derived cluster: `SimServer` runs the API server for any ClusterState.

It knows nothing about scenarios (which one, which namespace to default to): that side is
`scenarios/serving.py`, behind `atlas-sre sim serve`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from atlas_sre.sim.api.server import SimAPIServer, make_server
from atlas_sre.sim.kubeconfig import write_kubeconfig


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
                 namespace: str | None = None, episode: str | None = None, verbose: bool = False,
                 live: bool | None = None) -> None:
        self.state = state
        self.live = live  # table ages move with the wall clock (None: as the state's clock says)
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
        self._server = make_server(self.state, port=self._port, prefix=f"clusters/{episode}", verbose=self._verbose,
                                   live=self.live)
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

"""Serving for the client-compatibility suite: each scenario served once, on first use.

The serving path is the one `atlas-sre sim serve` uses (`build_state` + `SimServer`), anchored on
the wall clock so the ages kubectl computes itself read true, as they do for a user.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sim"))
from kubectl_env import run_kubectl  # noqa: E402

from atlas_sre.scenarios.serving import build_state  # noqa: E402
from atlas_sre.sim.api.serve import SimServer  # noqa: E402

# The user property a corpus test records, so the summary can group failures by pending feature.
FEATURE_PROPERTY = "compat_feature"


@dataclass
class Served:
    """One served scenario: its server, the state behind it, and a kubectl with its own HOME."""

    server: SimServer
    state: Any
    home: Path

    def kubectl(self, *args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
        return run_kubectl(self.server.kubeconfig_path, *args, env_home=self.home, timeout=timeout)


class Clusters:
    """Starts each scenario on first use and keeps it for the session (one server per scenario)."""

    def __init__(self, stack: ExitStack, tmp: pytest.TempPathFactory) -> None:
        self._stack, self._tmp = stack, tmp
        self._served: dict[str, Served] = {}

    def get(self, scenario: str) -> Served:
        if scenario not in self._served:
            state, namespace = build_state(scenario)
            server = self._stack.enter_context(SimServer(state, namespace=namespace))
            self._served[scenario] = Served(server, state, self._tmp.mktemp("compat-home"))
        return self._served[scenario]

"""The kubeconfig written for each served scenario.

The server URL carries a `/clusters/<episode-id>` path: kubectl keys its discovery cache on the
URL, so a new scenario (with other CRDs) on a reused port can never read a stale cache. The user
has a dummy token only; the server refuses every write whoever asks.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CLUSTER = "atlas-sre-sim"
USER = "atlas-sre-agent"
TOKEN = "atlas-sre-sim-read-only"


def kubeconfig_text(server_url: str, namespace: str | None = None) -> str:
    """A complete kubeconfig as YAML (JSON values, valid YAML, so no YAML library is needed)."""
    context = {"cluster": CLUSTER, "user": USER}
    if namespace:
        context["namespace"] = namespace
    lines = [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        f"- name: {CLUSTER}",
        f"  cluster: {{server: {json.dumps(server_url)}}}",
        "users:",
        f"- name: {USER}",
        f"  user: {{token: {json.dumps(TOKEN)}}}",
        "contexts:",
        f"- name: {CLUSTER}",
        f"  context: {json.dumps(context)}",
        f"current-context: {CLUSTER}",
        "preferences: {}",
    ]
    return "\n".join(lines) + "\n"


def write_kubeconfig(path: str | Path, server_url: str, namespace: str | None = None) -> Path:
    """Write the kubeconfig (mode 0600, as kubectl expects of credentials files) and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(kubeconfig_text(server_url, namespace), encoding="utf-8")
    os.chmod(target, 0o600)
    return target

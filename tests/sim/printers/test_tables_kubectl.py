"""End to end: real kubectl 1.32 prints our Tables as it prints a real apiserver's.

A tiny stdlib server answers discovery (legacy form) and serves `to_table` output for pods,
events, nodes and an Istio VirtualService; the test runs the installed kubectl against it with an
isolated HOME and discovery cache and checks the printed columns.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from atlas_sre.sim.printers.table import to_table

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed"),
]

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def ts(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(name: str, minutes_ago: float, namespace: str | None = "default") -> dict:
    md = {"name": name, "uid": f"uid-{name}", "resourceVersion": "7", "creationTimestamp": ts(minutes_ago)}
    if namespace:
        md["namespace"] = namespace
    return md


PODS = [
    {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": _meta("web-1", 45),
        "spec": {"nodeName": "worker-1", "containers": [{"name": "app", "image": "shop/web:1"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.244.1.5",
            "podIPs": [{"ip": "10.244.1.5"}],
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": False,
                    "restartCount": 5,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ts(2)}},
                }
            ],
        },
    },
    {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": _meta("batch-1", 30),
        "spec": {"nodeName": "worker-1", "containers": [{"name": "job", "image": "shop/job:1"}]},
        "status": {
            "phase": "Succeeded",
            "containerStatuses": [
                {
                    "name": "job",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
                }
            ],
        },
    },
]
EVENTS = [
    {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": _meta("web-1.abc", 40),
        "type": "Warning",
        "reason": "BackOff",
        "message": "Back-off restarting failed container app",
        "count": 31,
        "firstTimestamp": ts(40),
        "lastTimestamp": ts(2),
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default"},
        "source": {"component": "kubelet", "host": "worker-1"},
    },
]
NODES = [
    {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": _meta("worker-1", 60 * 24 * 3, None),
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {"kubeletVersion": "v1.32.4"},
        },
    }
]
VIRTUAL_SERVICES = [
    {
        "kind": "VirtualService",
        "apiVersion": "networking.istio.io/v1",
        "metadata": _meta("reviews", 20),
        "spec": {"hosts": ["reviews"]},
    },
]
ROUTES = {
    "/api/v1/namespaces/default/pods": ("Pod", PODS),
    "/api/v1/namespaces/default/events": ("Event", EVENTS),
    "/api/v1/nodes": ("Node", NODES),
    "/apis/networking.istio.io/v1/namespaces/default/virtualservices": ("VirtualService", VIRTUAL_SERVICES),
}


def _resource(name: str, kind: str, namespaced: bool = True, short: list[str] | None = None) -> dict:
    return {
        "name": name,
        "singularName": kind.lower(),
        "namespaced": namespaced,
        "kind": kind,
        "verbs": ["get", "list"],
        "shortNames": short or [],
    }


DISCOVERY: dict[str, Any] = {
    "/version": {"major": "1", "minor": "32", "gitVersion": "v1.32.4", "platform": "linux/amd64"},
    "/api": {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    },
    "/apis": {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {
                "name": "networking.istio.io",
                "versions": [{"groupVersion": "networking.istio.io/v1", "version": "v1"}],
                "preferredVersion": {"groupVersion": "networking.istio.io/v1", "version": "v1"},
            }
        ],
    },
    "/api/v1": {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            _resource("pods", "Pod", short=["po"]),
            _resource("events", "Event", short=["ev"]),
            _resource("nodes", "Node", namespaced=False, short=["no"]),
        ],
    },
    "/apis/networking.istio.io/v1": {
        "kind": "APIResourceList",
        "groupVersion": "networking.istio.io/v1",
        "resources": [_resource("virtualservices", "VirtualService", short=["vs"])],
    },
}


class _Handler(BaseHTTPRequestHandler):
    """Discovery plus Table answers; every other path is a 404 Status."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        if path in DISCOVERY:
            body: Any = DISCOVERY[path]
        elif path in ROUTES:
            kind, objects = ROUTES[path]
            include = parse_qs(url.query).get("includeObject", ["Metadata"])[0]
            body = to_table(kind, objects, NOW, include_object=include)
        else:
            return self._send(
                404,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "code": 404,
                    "reason": "NotFound",
                    "message": f"the server could not find {path}",
                },
            )
        self._send(200, body)

    def _send(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        """Keep pytest output quiet."""


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A function running kubectl against the test server; returns stdout as rows of cells."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = tmp_path_factory.mktemp("kubehome")
    config = home / "kubeconfig"
    config.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "sim",
                "clusters": [
                    {"name": "sim", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}
                ],
                "users": [{"name": "sim", "user": {}}],
                "contexts": [
                    {"name": "sim", "context": {"cluster": "sim", "user": "sim", "namespace": "default"}}
                ],
            }
        )
    )
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECACHEDIR": str(Path(home) / "cache")}

    def run(*args: str) -> list[list[str]]:
        done = subprocess.run(
            ["kubectl", "--kubeconfig", str(config), "--request-timeout", "10s", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return [re.split(r"\s{2,}", line.strip()) for line in done.stdout.splitlines() if line.strip()]

    yield run
    server.shutdown()


def test_get_pods(kubectl: Any) -> None:
    rows = kubectl("get", "pods")
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert rows[1] == ["web-1", "0/1", "CrashLoopBackOff", "5 (2m ago)", "45m"]
    assert rows[2] == ["batch-1", "0/1", "Completed", "0", "30m"]


def test_get_pods_wide_and_sorted(kubectl: Any) -> None:
    rows = kubectl("get", "pods", "-o", "wide")
    assert rows[0] == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED NODE",
        "READINESS GATES",
    ]
    assert rows[1][5:] == ["10.244.1.5", "worker-1", "<none>", "<none>"]
    assert [r[0] for r in kubectl("get", "pods", "--sort-by=.metadata.name")[1:]] == ["batch-1", "web-1"]


def test_get_events_and_nodes(kubectl: Any) -> None:
    rows = kubectl("get", "events")
    assert rows[0] == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert rows[1] == ["2m", "Warning", "BackOff", "pod/web-1", "Back-off restarting failed container app"]
    nodes = kubectl("get", "nodes")
    assert nodes == [
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        ["worker-1", "Ready", "<none>", "3d", "v1.32.4"],
    ]


def test_get_virtualservices_with_missing_column(kubectl: Any) -> None:
    rows = kubectl("get", "vs")
    assert rows[0] == ["NAME", "GATEWAYS", "HOSTS", "AGE"]
    assert rows[1] == ["reviews", '["reviews"]', "20m"]  # null GATEWAYS prints as an empty cell

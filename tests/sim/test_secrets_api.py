"""Secrets are served as a real apiserver stores them: `stringData` folded into base64 `data`.

Real kubectl and the official Python client read the served scenario; the agent's command layer
still refuses Secret contents and `describe` shows byte counts only.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_env import run_kubectl

from atlas_sre.commands import CommandConfig, CommandRunner
from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.objects.secrets import store_secret
from conftest import deployment, derive_state, get, make_spec, namespace, node

kubectl_only = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")

SECRET = {
    "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
    "data": {"user": base64.b64encode(b"admin").decode(), "password": base64.b64encode(b"old").decode()},
    "stringData": {"password": "s3cr3t!!", "url": "postgres://db:5432/orders"},
}


def _state() -> Any:
    return derive_state(make_spec([namespace("shop"), node("worker-1"), SECRET,
                                   deployment("web", replicas=1)]))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimServer, Path]]:
    with SimServer(_state(), namespace="shop") as server:
        yield server, tmp_path_factory.mktemp("home")


def test_store_secret_merges_string_data_and_drops_it() -> None:
    stored = store_secret({"kind": "Secret", "stringData": {"b": "é", "a": "x"}, "data": {"a": "eQ=="}})
    assert stored == {"kind": "Secret", "type": "Opaque", "data": {"a": "eA==", "b": "w6k="}}
    assert store_secret({"kind": "Secret", "type": "kubernetes.io/tls"})["type"] == "kubernetes.io/tls"


def test_derived_secret_holds_data_only() -> None:
    secret = get(_state(), "Secret", "shop", "db")
    assert "stringData" not in secret
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded == {"password": "s3cr3t!!", "url": "postgres://db:5432/orders", "user": "admin"}
    assert secret["type"] == "Opaque"


@kubectl_only
def test_kubectl_get_describe_and_jsonpath(served: tuple[SimServer, Path]) -> None:
    server, home = served
    table = run_kubectl(server.kubeconfig_path, "get", "secret", "db", env_home=home).stdout
    assert table.splitlines()[1].split()[:3] == ["db", "Opaque", "3"], table
    described = run_kubectl(server.kubeconfig_path, "describe", "secret", "db", env_home=home).stdout
    assert "password:  8 bytes" in described and "url:       25 bytes" in described, described
    assert "user:      5 bytes" in described
    assert "s3cr3t" not in described
    value = run_kubectl(server.kubeconfig_path, "get", "secret", "db", "-o", "jsonpath={.data.password}",
                        env_home=home).stdout
    assert base64.b64decode(value) == b"s3cr3t!!"
    raw = run_kubectl(server.kubeconfig_path, "get", "secret", "db", "-o", "json", env_home=home).stdout
    assert "stringData" not in raw


def test_python_client_reads_data(served: tuple[SimServer, Path]) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    server, _ = served
    api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig_path)))
    secret = api.read_namespaced_secret("db", "shop")
    assert secret.string_data is None
    assert sorted(secret.data) == ["password", "url", "user"]
    assert base64.b64decode(secret.data["url"]) == b"postgres://db:5432/orders"


@kubectl_only
def test_command_layer_still_keeps_values_from_the_agent(served: tuple[SimServer, Path]) -> None:
    server, _ = served
    with CommandRunner(CommandConfig(kubeconfig=server.kubeconfig_path, namespace="shop", timeout_s=30)) as runner:
        refused = runner.run("kubectl get secret db -o yaml")
        assert refused.refused and "Secret contents" in (refused.reason or "")
        jsonpath = runner.run("kubectl get secret db -o jsonpath='{.data.password}'")
        assert jsonpath.refused
        described = runner.run("kubectl describe secret db")
        assert not described.refused and described.exit_code == 0
        assert "password:  8 bytes" in described.observation
        assert "s3cr3t" not in described.observation
        listed = runner.run("kubectl get secrets")
        assert "db" in listed.observation and "3" in listed.observation.splitlines()[1]

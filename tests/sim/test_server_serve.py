"""`serve_forever_cli`: one line on stdout, quick start, clean exit on SIGTERM/SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubectl_env import KUBECTL, run_kubectl

from atlas_sre.scenarios.serving import main_namespace
from atlas_sre.sim.kubeconfig import kubeconfig_text

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
PYTHON = sys.executable

# Runs the CLI function with the state built by tests/sim/kubectl_env.py, so the serving loop is tested
# whether or not the derivation engine is available.
STUB = """
import sys
sys.path.insert(0, {here!r})
import atlas_sre.scenarios.serving as serve
from kubectl_env import sample_state
serve.build_state = lambda scenario, now=None: (sample_state(), "shop")
sys.exit(serve.serve_forever_cli("sample", 0, {kubeconfig!r}, None))
"""


def start(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen[str], str, float]:
    started = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "HOME": str(tmp_path)})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line, time.monotonic() - started


def test_cli_prints_only_the_export_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc" / "config"
    code = STUB.format(here=str(HERE), kubeconfig=str(kubeconfig))
    proc, line, _ = start([PYTHON, "-c", code], tmp_path)
    try:
        assert line == f"export KUBECONFIG={kubeconfig}\n"
        text = kubeconfig.read_text()
        assert "namespace" in text and "/clusters/" in text and "127.0.0.1" in text
        if KUBECTL:
            result = run_kubectl(kubeconfig, "get", "pods", "-o", "name", env_home=tmp_path / "home")
            assert result.stdout.splitlines()[0] == "pod/web-5d9c7b8f6c-abcde"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and out == "" and "stopped" in err


def test_cli_reports_a_missing_scenario(tmp_path: Path) -> None:
    code = "import sys; from atlas_sre.scenarios.serving import serve_forever_cli; " \
           f"sys.exit(serve_forever_cli({str(tmp_path / 'nope.yaml')!r}, 0, None, None))"
    result = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2 and result.stdout == "" and "nope.yaml" in result.stderr


def test_kubeconfig_is_valid_yaml_with_context_namespace() -> None:
    import yaml

    doc = yaml.safe_load(kubeconfig_text("http://127.0.0.1:1234/clusters/abc", "shop"))
    assert doc["clusters"][0]["cluster"]["server"] == "http://127.0.0.1:1234/clusters/abc"
    assert doc["contexts"][0]["context"] == {"cluster": "atlas-sre-sim", "user": "atlas-sre-agent", "namespace": "shop"}
    assert doc["current-context"] == "atlas-sre-sim"
    assert "namespace" not in yaml.safe_load(kubeconfig_text("http://x"))["contexts"][0]["context"]


def test_main_namespace_prefers_alerts_then_manifests() -> None:
    from atlas_sre.scenarios.loader import load_text

    text = """apiVersion: atlas-sre/v1
kind: Scenario
metadata: {name: t}
spec:
  incident: {summary: s, alerts: [%s]}
  manifests:
    - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
    - {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: shop}}
    - {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: istio-system}}
"""
    assert main_namespace(load_text(text % "")) == "shop"
    assert main_namespace(load_text(text % "{alertname: X, namespace: pay}")) == "pay"


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_built_in_scenario_serves_kubectl_from_the_cli(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    code = ("import sys; from atlas_sre.scenarios.serving import serve_forever_cli; "
            f"sys.exit(serve_forever_cli('mesh-subset-missing', 0, {str(kubeconfig)!r}, '2026-01-01T12:00:00Z'))")
    proc, line, _ = start([PYTHON, "-c", code], tmp_path)  # stand-up time is measured in bench/sim_api.py
    try:
        assert line.startswith("export KUBECONFIG=")
        result = run_kubectl(kubeconfig, "get", "pods", env_home=tmp_path / "home")
        assert result.returncode == 0 and "productpage" in result.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    assert proc.returncode == 0

"""Simulator API benchmark: stand-up time and kubectl cost ratios at 100, 1,000 and 10,000 pods.

Prints one `name=value` line per figure. Targets (issue 2): stand-up ≤ 1 s; the ratio
`kubectl get pods -A` ÷ `kubectl version --client` ≤ 1.5 at 1,000 pods and ≤ 3 at 10,000.
Target (issue 13): `sim_over_replay` ≤ 1.05 — the same command against the simulator ÷ against a
server replaying the simulator's recorded bytes from memory (`bench/replay.py`); runs interleave,
so a busy machine slows both sides alike.
Run: `.venv/bin/python bench/sim_api.py [--sizes 100,1000,10000] [--runs 5]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from atlas_sre.scenarios.catalog import find
from replay import ReplayServer

BASE = "service-no-endpoints"  # every pod Running: the listing cost is not hidden by errors


def scaled_scenario(pods: int, out: Path) -> Path:
    """The base scenario with its Deployments' replicas and Nodes scaled to about `pods` pods."""
    doc = yaml.safe_load(find(BASE).read_text())
    manifests = doc["spec"]["manifests"]
    deployments = [m for m in manifests if m["kind"] == "Deployment"]
    per = max(1, pods // len(deployments))
    for d in deployments:
        d["spec"]["replicas"] = per
        for c in d["spec"]["template"]["spec"]["containers"]:
            c["resources"] = {"requests": {"cpu": "1m", "memory": "1Mi"}}
    nodes = [m for m in manifests if m["kind"] == "Node"]
    template = nodes[0]
    for n in nodes:
        manifests.remove(n)
    for i in range(max(1, pods // 100 + 1)):
        node = yaml.safe_load(yaml.safe_dump(template))
        node["metadata"]["name"] = node["metadata"]["labels"]["kubernetes.io/hostname"] = f"worker-{i + 1}"
        node["status"] = {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"},
                          "capacity": {"cpu": "64", "memory": "256Gi", "pods": "110"}}
        manifests.append(node)
    doc["metadata"]["name"] = f"scaled-{pods}"
    path = out / f"scaled-{pods}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kubectl(env: dict[str, str], *args: str) -> float:
    """Seconds one kubectl invocation takes; raises if it fails."""
    t0 = time.perf_counter()
    subprocess.run(["kubectl", *args], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t0


def serve(scenario: Path, tmp: Path) -> tuple[subprocess.Popen[bytes], dict[str, str], float]:
    """Start `atlas-sre sim serve` and wait for the first `kubectl get pods` answer."""
    port = free_port()
    kubeconfig = tmp / f"kubeconfig-{port}"
    home = tmp / f"home-{port}"
    home.mkdir()
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(home), "KUBECACHEDIR": str(home / "cache")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "atlas_sre", "sim", "serve", str(scenario), "--port", str(port),
         "--kubeconfig", str(kubeconfig), "--now", "2026-11-26T10:00:00Z"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = t0 + 120
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        if kubeconfig.exists():
            r = subprocess.run(["kubectl", "get", "pods", "-A", "--request-timeout=5s"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                return proc, env, time.perf_counter() - t0
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError("server did not answer within 120 s")


def against_replay(env: dict[str, str], tmp: Path, runs: int, *args: str) -> tuple[float, float]:
    """Median seconds of `kubectl ARGS` against the simulator and against a replay of its bytes.

    The command runs once through the recording proxy (and once more to warm the replay's own
    discovery cache), then the two servers are timed in alternation.
    """
    text = Path(env["KUBECONFIG"]).read_text(encoding="utf-8")
    upstream = text.split("server:", 1)[1].split('"')[1]
    origin = "/".join(upstream.split("/")[:3])
    with ReplayServer(origin) as replay:
        kubeconfig = tmp / f"kubeconfig-replay-{replay.url.rsplit(':', 1)[1]}"
        kubeconfig.write_text(text.replace(origin, replay.url), encoding="utf-8")
        home = tmp / f"home-replay-{replay.url.rsplit(':', 1)[1]}"
        home.mkdir()
        renv = {**env, "KUBECONFIG": str(kubeconfig), "HOME": str(home), "KUBECACHEDIR": str(home / "cache")}
        kubectl(renv, *args)
        replay.freeze()
        kubectl(renv, *args)
        sim_t, rep_t = [], []
        for _ in range(runs):
            sim_t.append(kubectl(env, *args))
            rep_t.append(kubectl(renv, *args))
    return statistics.median(sim_t), statistics.median(rep_t)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("kubectl"):
        print("error: kubectl is not on the PATH", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        proc, env, standup = serve(find(BASE), tmp)
        proc.terminate()
        proc.wait()
        print(f"standup_s={standup:.3f}")
        client = statistics.median(kubectl(env, "version", "--client") for _ in range(args.runs))
        print(f"kubectl_version_client_s={client:.3f}")
        for size in (int(s) for s in args.sizes.split(",")):
            path = scaled_scenario(size, tmp)
            proc, env, standup = serve(path, tmp)
            try:
                kubectl(env, "get", "pods", "-A")  # warm the discovery cache
                t = statistics.median(kubectl(env, "get", "pods", "-A") for _ in range(args.runs))
                sim, replay = against_replay(env, tmp, args.runs, "get", "pods", "-A")
            finally:
                proc.terminate()
                proc.wait()
            print(f"standup_{size}_pods_s={standup:.3f}")
            print(f"get_pods_A_{size}_s={t:.3f}")
            print(f"ratio_{size}_pods={t / client:.2f}")
            print(f"replay_get_pods_A_{size}_s={replay:.3f}")
            print(f"sim_over_replay_{size}_pods={sim / replay:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

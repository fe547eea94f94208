"""Each service-mesh fault read through real kubectl against the simulated API server.

The evidence an SRE would collect: the changed Istio/Kubernetes object (`kubectl get vs,dr,pa -A -o yaml`
and friends) and the Envoy flag in the right proxy's access log (`kubectl logs <pod> -c istio-proxy`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from signature import LINE, built_scenario, library_scenario

from atlas_sre.scenarios.apps import load_app
from atlas_sre.scenarios.build import apply_app_and_faults
from atlas_sre.scenarios.faults import CATALOGUE, get_fault

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sim"))
import kubectl_env as kube

from atlas_sre.sim.api import serve

pytestmark = [pytest.mark.kubectl,
              pytest.mark.skipif(kube.KUBECTL is None, reason="kubectl is not installed")]

MESH = sorted(f for f, v in CATALOGUE.items() if v.domain == "service-mesh")
MESH_KINDS = "virtualservices,destinationrules,peerauthentications,authorizationpolicies,gateways,sidecars"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kubectl-home")


def _selected_pods(state: object, expanded: object, service: str) -> list[tuple[str, str]]:
    ns, _, name = service.split("/")
    svc = next((m for m in expanded.spec.manifests if m["kind"] == "Service" and m["metadata"]["name"] == name
                and m["metadata"]["namespace"] == ns), None)
    if svc is None:
        return []
    sel = svc["spec"].get("selector") or {}
    return [(ns, p["metadata"]["name"]) for p in state.find("Pod", ns)
            if sel and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())]


def _pods_to_read(state: object, expanded: object, side: str) -> list[tuple[str, str]]:
    """Where the signature's flag should be logged: gateway pods, the impacted pods, or their callers."""
    gateway = [("istio-system", p["metadata"]["name"]) for p in state.find("Pod", "istio-system")
               if p["metadata"]["name"].startswith("istio-ingressgateway")]
    edges = expanded.spec.groundTruth.propagation
    if side == "gateway":
        return gateway
    if side == "server":
        return [p for e in edges[:1] for p in _selected_pods(state, expanded, e.target)]
    # callers of the broken service, then the impacted service's own pods (a Sidecar resource or a
    # workload out of the mesh breaks *its* outbound calls), then the gateway
    callers = [p for e in edges[1:] + edges[:1] for p in _selected_pods(state, expanded, e.target)]
    return callers + gateway


@pytest.fixture(scope="module", params=MESH)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, object, object, object]]:
    fault_id = request.param
    scenario = library_scenario(fault_id) or built_scenario(fault_id)
    if scenario is None:
        pytest.fail(f"no gated scenario for {fault_id}")
    from atlas_sre.scenarios.readiness import derive_scenario

    state = derive_scenario(scenario)
    expanded, _ = apply_app_and_faults(scenario)
    namespace = load_app(scenario.spec.app).namespace if scenario.spec.app else None
    with serve.SimServer(state, namespace=namespace) as sim:
        yield fault_id, state, expanded, sim


def test_mesh_fault_signature_through_kubectl(served: tuple[str, object, object, object], home: Path) -> None:
    fault_id, state, expanded, sim = served
    cfg = sim.kubeconfig_path
    root = expanded.spec.groundTruth.rootCauses[0].entity
    ns, kind, name = root.split("/") if root.count("/") == 2 else (None, *root.split("/"))
    # 1. the misconfigured object, as `kubectl get ... -o yaml` shows it
    mesh = kube.run_kubectl(cfg, "get", MESH_KINDS, "-A", "-o", "yaml", env_home=home)
    assert mesh.returncode == 0, mesh.stderr
    if kind in ("VirtualService", "DestinationRule", "PeerAuthentication", "AuthorizationPolicy", "Gateway",
                "Sidecar"):
        assert f"name: {name}\n" in mesh.stdout and f"kind: {kind}\n" in mesh.stdout
    else:
        got = kube.run_kubectl(cfg, "get", kind.lower(), name, *(["-n", ns] if ns else []), "-o", "yaml",
                               env_home=home)
        assert got.returncode == 0 and f"name: {name}" in got.stdout, got.stderr
    # 2. the flag in the right proxy's access log, as `kubectl logs <pod> -c istio-proxy` prints it
    sig = get_fault(fault_id).signature
    if not sig.flags:
        return
    seen: set[str] = set()
    for pod_ns, pod in _pods_to_read(state, expanded, sig.proxy or "client"):
        out = kube.run_kubectl(cfg, "logs", "-n", pod_ns, pod, "-c", "istio-proxy", "--tail=400", env_home=home)
        assert out.returncode == 0, out.stderr
        for line in out.stdout.splitlines():
            m = LINE.match(line)
            if m:
                code, flags, details = m.groups()
                seen |= {code, details, *flags.split(","), details.split("[", 1)[0]}
        if seen & set(sig.flags):
            break
    assert seen & set(sig.flags), f"{fault_id}: no {sig.flags} in {sig.proxy} proxy logs (saw {sorted(seen)})"

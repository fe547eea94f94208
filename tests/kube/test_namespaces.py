"""The well-known namespace sets keep the contents each of their users always had."""

from __future__ import annotations

import re

from atlas_sre.kube import namespaces as ns
from atlas_sre.kube.names import SAFE_CHAR

KUBE = {"kube-system", "kube-public", "kube-node-lease"}


def test_each_set_keeps_its_contents() -> None:
    system = KUBE | {"istio-system", "local-path-storage"}
    got = {name: set(getattr(ns, name)) for name in ("SYSTEM_NAMESPACES", "MESH_EXEMPT_NAMESPACES",
                                                     "NON_APP_NAMESPACES", "WELL_KNOWN_NAMESPACES",
                                                     "INFRA_NAMESPACES")}
    assert got == {
        "SYSTEM_NAMESPACES": system,  # analyzers, reference agents, scenario readiness
        "MESH_EXEMPT_NAMESPACES": KUBE | {"istio-system"},  # Istio's injector
        "NON_APP_NAMESPACES": KUBE | {"istio-system", "default"},  # `sim serve`'s default namespace
        "WELL_KNOWN_NAMESPACES": system | {"istio-ingress", "cert-manager", "monitoring"},  # capsules
        "INFRA_NAMESPACES": system | {"monitoring", "prometheus", "observability", "metrics-server",
                                     "cert-manager", "chaos-mesh"},  # grading
    }
    assert list(ns.INITIAL_NAMESPACES) == ["default", "kube-node-lease", "kube-public", "kube-system"]


def test_generated_suffixes_use_the_safe_alphabet() -> None:
    assert re.fullmatch(rf"{SAFE_CHAR}{{5}}", "x2x4z") and not re.fullmatch(rf"{SAFE_CHAR}{{5}}", "cache")

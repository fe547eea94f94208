"""Routing analyzers: VirtualService destinations and gateways, DestinationRule subsets and hosts,
Gateway workloads, injection and port naming (istioctl codes and wording)."""

from __future__ import annotations

from analyzer_objects import (
    PROXY,
    container,
    deployment,
    healthy_mesh,
    istio,
    namespace,
    service,
    snap,
)

from atlas_sre.analyzers import Level, run_analyzers


def _lines(objs: list, names: list[str] | None = None, **kw: object) -> list[str]:
    return [f.line for f in run_analyzers(snap(objs, **kw), names=names)]


def _obj(objs: list, kind: str, name: str) -> dict:
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)


def test_subset_missing_from_destination_rule_is_ist0101_with_istioctl_text() -> None:
    objs = healthy_mesh()
    _obj(objs, "VirtualService", "reviews")["spec"]["http"][0]["route"].append(
        {"destination": {"host": "reviews", "subset": "v3"}, "weight": 50}
    )
    found = run_analyzers(snap(objs), names=["vs-destinations"])
    assert [f.line for f in found] == [
        "Error [IST0101] (VirtualService shop/reviews) Referenced host+subset in destinationrule not found: "
        '"reviews+v3"'
    ]
    assert found[0].related == ("shop/DestinationRule/reviews",)


def test_unknown_host_and_unknown_port_are_ist0101() -> None:
    objs = healthy_mesh()
    dest = _obj(objs, "VirtualService", "reviews")["spec"]["http"][0]["route"][0]["destination"]
    dest["port"] = {"number": 9081}
    assert _lines(objs, ["vs-destinations"]) == [
        'Error [IST0101] (VirtualService shop/reviews) Referenced host:port not found: "reviews:9081"'
    ]
    dest["host"] = "reviewz"
    found = run_analyzers(snap(objs), names=["vs-destinations"])
    assert [f.line for f in found] == [
        'Error [IST0101] (VirtualService shop/reviews) Referenced host not found: "reviewz"'
    ]
    assert found[0].related == ("shop/Service/reviewz",)


def test_fqdn_and_service_entry_hosts_resolve() -> None:
    objs = healthy_mesh()
    dest = _obj(objs, "VirtualService", "reviews")["spec"]["http"][0]["route"][0]["destination"]
    dest["host"] = "reviews.shop.svc.cluster.local"
    assert _lines(objs, ["vs-destinations"]) == []
    dest.update(host="api.stripe.com", subset=None)
    dest.pop("subset")
    dest.pop("port")
    assert _lines(objs, ["vs-destinations"]) == [
        'Error [IST0101] (VirtualService shop/reviews) Referenced host not found: "api.stripe.com"'
    ]
    objs.append(istio("ServiceEntry", "stripe", {"hosts": ["*.stripe.com"], "ports": [{"number": 443}]}))
    assert _lines(objs, ["vs-destinations"]) == []


def test_gateway_not_found_and_host_not_in_gateway() -> None:
    objs = healthy_mesh()
    vs = _obj(objs, "VirtualService", "frontend")
    vs["spec"]["hosts"] = ["shop.example.org"]
    assert _lines(objs, ["vs-gateways"]) == [
        "Warning [IST0132] (VirtualService shop/frontend) one or more host [shop.example.org] defined in "
        "VirtualService shop/frontend not found in Gateway shop/shop-gateway."
    ]
    vs["spec"]["gateways"] = ["shop-gateway-v2", "mesh"]
    assert _lines(objs, ["vs-gateways"]) == [
        'Error [IST0101] (VirtualService shop/frontend) Referenced gateway not found: "shop-gateway-v2"'
    ]
    vs["spec"]["gateways"] = ["istio-system/shop-gateway"]
    assert _lines(objs, ["vs-gateways"])[0].endswith('not found: "istio-system/shop-gateway"')


def test_subset_selecting_no_pods_is_ist0173_and_unknown_dr_host_ist0174() -> None:
    objs = healthy_mesh()
    dr = _obj(objs, "DestinationRule", "reviews")
    dr["spec"]["subsets"].append({"name": "v4", "labels": {"version": "v4"}})
    assert _lines(objs, ["dr-subsets"]) == [
        "Error [IST0173] (DestinationRule shop/reviews) The Subset v4 defined in the DestinationRule does "
        "not "
        "select any pods. Which may lead to 503 UH (NoHealthyUpstream)."
    ]
    dr["spec"]["host"] = "ratings"
    assert _lines(objs, ["dr-subsets"]) == [
        "Warning [IST0174] (DestinationRule shop/reviews) The host ratings defined in the DestinationRule "
        "does not "
        "match any services in the mesh."
    ]


def test_a_subset_emptied_by_scaling_its_workload_to_zero_names_the_workload_atl127() -> None:
    objs = healthy_mesh()
    _obj(objs, "DestinationRule", "reviews")["spec"]["subsets"].append({"name": "v4", "labels": {"version": "v4"}})
    objs += deployment("reviews-v4", labels={"app": "reviews", "version": "v4"}, replicas=0, n_pods=0)
    assert _lines(objs, ["dr-subsets"]) == [
        "Error [ATL127] (Deployment shop/reviews-v4) Deployment shop/reviews-v4 is scaled to 0 replicas, so subset "
        "v4 (version=v4) of DestinationRule shop/reviews selects no pods; traffic routed to it gets 503 UH "
        "(NoHealthyUpstream)."
    ]
    [found] = run_analyzers(snap(objs), names=["dr-subsets"])
    assert found.related == ("shop/DestinationRule/reviews", "shop/Service/reviews")
    _obj(objs, "Deployment", "reviews-v4")["spec"]["template"]["metadata"]["labels"]["app"] = "other"
    assert [line.split("]")[0] for line in _lines(objs, ["dr-subsets"])] == ["Error [IST0173"]  # not the Service's


def test_ist0173_is_left_to_the_service_when_it_selects_no_pods_at_all() -> None:
    objs = [
        o
        for o in healthy_mesh()
        if not (o["kind"] == "Pod" and o["metadata"]["labels"].get("app") == "reviews")
    ]
    assert _lines(objs, ["dr-subsets"]) == []
    assert [f.code for f in run_analyzers(snap(objs), names=["service-endpoints"])] == ["ATL220"]


def test_gateway_selector_and_credential_must_exist() -> None:
    objs = [o for o in healthy_mesh() if o["metadata"].get("namespace") != "istio-system"]
    assert _lines(objs, ["gateway-workload"]) == [
        'Error [IST0101] (Gateway shop/shop-gateway) Referenced selector not found: "istio=ingressgateway"'
    ]
    objs = healthy_mesh()
    _obj(objs, "Gateway", "shop-gateway")["spec"]["servers"].append(
        {
            "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
            "hosts": ["shop.example.com"],
            "tls": {"mode": "SIMPLE", "credentialName": "shop-cert"},
        }
    )
    assert _lines(objs, ["gateway-workload"]) == []  # secrets unknown: no guess
    assert _lines(objs, ["gateway-workload"], secret_names=[("istio-system", "other")]) == [
        'Error [IST0101] (Gateway shop/shop-gateway) Referenced credentialName not found: "shop-cert"'
    ]
    assert _lines(objs, ["gateway-workload"], secret_names=[("istio-system", "shop-cert")]) == []


def test_injection_ist0102_and_ist0103() -> None:
    objs = healthy_mesh() + deployment("batch", ns="jobs", sidecar=False) + [namespace("jobs", injected=None)]
    objs += deployment("legacy", sidecar=False)
    lines = _lines(objs, ["injection"])
    assert lines == [
        "Warning [IST0103] (Pod shop/legacy-5d9c7b8f6c-p0) The pod shop/legacy-5d9c7b8f6c-p0 is missing the "
        "Istio "
        "proxy. This can often be resolved by restarting or redeploying the workload.",
        "Info [IST0102] (Namespace jobs) The namespace is not enabled for Istio injection. Run 'kubectl "
        "label "
        "namespace jobs istio-injection=enabled' to enable it, or 'kubectl label namespace jobs "
        "istio-injection=disabled' to explicitly mark it as not needing injection.",
    ]
    _obj(objs, "Pod", "legacy-5d9c7b8f6c-p0")["metadata"]["annotations"] = {
        "sidecar.istio.io/inject": "false"
    }
    assert not any("IST0103" in line for line in _lines(objs, ["injection"]))


def test_port_naming_ist0118_and_protocol_mismatch_atl125() -> None:
    objs = healthy_mesh()
    svc = _obj(objs, "Service", "reviews")
    svc["spec"]["ports"][0]["name"] = "web"
    assert _lines(objs, ["port-protocol"]) == [
        "Info [IST0118] (Service shop/reviews) Port name web (port: 9080, targetPort: 9080) doesn't follow "
        "the naming "
        "convention of Istio port."
    ]
    svc["spec"]["ports"][0]["name"] = "grpc"
    assert _lines(objs, ["port-protocol"]) == []  # the pods do not say what they speak
    for pod in (o for o in objs if o["kind"] == "Pod" and o["metadata"]["labels"].get("app") == "reviews"):
        pod["spec"]["containers"] = [container("reviews", port_name="http"), PROXY]
    found = run_analyzers(snap(objs), names=["port-protocol"])
    assert [(f.code, f.level) for f in found] == [("ATL125", Level.WARNING)]
    assert "makes the mesh speak grpc" in found[0].message and "declared http" in found[0].message


def test_no_mesh_means_no_injection_or_naming_findings() -> None:
    objs = deployment("web", sidecar=False) + [namespace(injected=None), service("web", port_name="web")]
    assert _lines(objs, ["injection", "port-protocol"]) == []

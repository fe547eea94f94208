"""Service-level analyzers: endpoints, target ports, configured dependencies, NetworkPolicies, DNS,
HPAs and quotas."""

from __future__ import annotations

from analyzer_objects import container, deployment, event, meta, service, snap

from atlas_sre.analyzers import Level, run_analyzers


def _found(objs: list, name: str) -> list:
    return run_analyzers(snap(objs), names=[name])


def _frontend(addr: str = "cart:7070", **kw: object) -> list:
    return deployment(
        "frontend", containers=[container("frontend", env=[{"name": "CART_ADDR", "value": addr}])], **kw
    )


def test_selector_matching_no_pod_is_atl220_with_the_near_miss() -> None:
    objs = deployment("checkout") + [service("checkout", selector={"app": "checkout-api"})]
    found = _found(objs, "service-endpoints")
    assert [f.line for f in found] == [
        "Error [ATL220] (Service shop/checkout) Service has no endpoints: selector app=checkout-api matches "
        "no pods; "
        "pods in shop carry app=checkout."
    ]


def test_unready_pods_and_scaled_to_zero_are_told_apart() -> None:
    objs = deployment("cart", ready=False) + [service("cart")]
    found = _found(objs, "service-endpoints")
    assert [f.code for f in found] == ["ATL221"] and found[0].related == ("shop/Deployment/cart",)
    zero = deployment("cart", replicas=0) + [service("cart")]
    found = _found(zero, "service-endpoints")
    assert [(f.code, f.resource.entity) for f in found] == [("ATL222", "shop/Deployment/cart")]
    assert found[0].related == ("shop/Service/cart",)


def test_target_port_not_declared_by_the_pods_is_atl223() -> None:
    objs = deployment("cart", containers=[container("cart", port=7070)]) + [
        service("cart", port=7070, target=8080)
    ]
    found = _found(objs, "target-port")
    assert [(f.code, f.level) for f in found] == [("ATL223", Level.ERROR)]
    assert (
        "targets 8080, which no selected container declares (pods of cart expose cart:7070)"
        in found[0].message
    )
    ok = deployment("cart", containers=[container("cart", port=7070)]) + [service("cart", port=7070)]
    assert _found(ok, "target-port") == []
    named = deployment("cart", containers=[container("cart", port=7070, port_name="grpc")])
    assert _found(named + [service("cart", port=7070, target="grpc")], "target-port") == []
    assert [
        f.level for f in _found(named + [service("cart", port=7070, target="grpc-web")], "target-port")
    ] == [Level.ERROR]


def test_configured_dependency_on_missing_service_or_port() -> None:
    found = _found(
        _frontend() + deployment("cart", containers=[container("cart", port=7070)]), "dependencies"
    )
    assert [f.line for f in found] == [
        "Error [ATL240] (Deployment shop/frontend) CART_ADDR points at cart:7070, but Service shop/cart does "
        "not "
        "exist; the name does not resolve (no such host)."
    ]
    assert found[0].related == ("shop/Service/cart",)
    found = _found(_frontend("cart:7071") + [service("cart", port=7070)], "dependencies")
    assert [f.code for f in found] == ["ATL241"] and "exposes port(s) 7070" in found[0].message
    assert (
        _found(
            _frontend("http://cart.shop.svc.cluster.local:7070/api")
            + [
                service("cart", port=7070),
                {"apiVersion": "v1", "kind": "Namespace", "metadata": meta("shop", None)},
            ],
            "dependencies",
        )
        == []
    )
    assert _found(_frontend("api.stripe.com:443"), "dependencies") == []


def test_configmap_sourced_address_is_checked_too() -> None:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta("addrs"),
        "data": {"CART_ADDR": "carts:7070"},
    }
    objs = deployment(
        "frontend", containers=[container("frontend", envFrom=[{"configMapRef": {"name": "addrs"}}])]
    )
    assert [f.code for f in _found(objs + [cm, service("cart", port=7070)], "dependencies")] == ["ATL240"]


def _netpol(name: str, selector: dict, types: list[str], **rules: list) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(name),
        "spec": {"podSelector": {"matchLabels": selector}, "policyTypes": types, **rules},
    }


def test_network_policy_blocking_service_ingress_and_dependency_egress() -> None:
    base = deployment("cart", containers=[container("cart", port=7070)]) + [service("cart", port=7070)]
    deny = _netpol("cart-restrict", {"app": "cart"}, ["Ingress"], ingress=[{"ports": [{"port": 9999}]}])
    found = _found(base + [deny], "network-policy")
    assert [(f.code, f.resource.entity) for f in found] == [("ATL250", "shop/NetworkPolicy/cart-restrict")]
    allow = _netpol(
        "cart-allow",
        {"app": "cart"},
        ["Ingress"],
        ingress=[{"from": [{"podSelector": {}}], "ports": [{"port": 7070}]}],
    )
    assert _found(base + [deny, allow], "network-policy") == []
    egress = _netpol(
        "frontend-dns-only",
        {"app": "frontend"},
        ["Egress"],
        egress=[{"ports": [{"port": 53, "protocol": "UDP"}]}],
    )
    found = _found(base + _frontend() + [egress], "network-policy")
    assert [f.code for f in found] == ["ATL251"] and "CART_ADDR=cart:7070" in found[0].message


def test_dns_policy_bypassing_cluster_dns() -> None:
    dns = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta("kube-dns", "kube-system"),
        "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 53}]},
    }
    bad = _frontend(pod_spec_extra={"dnsPolicy": "None", "dnsConfig": {"nameservers": ["10.96.0.53"]}})
    found = _found(bad + [dns, service("cart", port=7070)], "dns-policy")
    assert [f.line for f in found] == [
        "Error [ATL252] (Deployment shop/frontend) dnsPolicy None sends lookups to nameserver(s) 10.96.0.53 "
        "(cluster "
        "DNS is 10.96.0.10), so Service names such as cart (CART_ADDR=cart:7070) do not resolve."
    ]
    good = _frontend(pod_spec_extra={"dnsPolicy": "None", "dnsConfig": {"nameservers": ["10.96.0.10"]}})
    assert _found(good + [dns], "dns-policy") == []


def _hpa(current: int, target: int = 80) -> dict:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta("frontend"),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "frontend"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": target},
                    },
                }
            ],
        },
        "status": {"currentReplicas": current, "desiredReplicas": current},
    }


def test_hpa_at_max_or_with_absurd_target() -> None:
    assert _found([_hpa(3)], "autoscaling") == []
    found = _found([_hpa(5)], "autoscaling")
    assert [(f.code, f.level) for f in found] == [("ATL230", Level.WARNING)]
    assert found[0].related == ("shop/Deployment/frontend",)
    assert "targets cpu 2% utilisation" in _found([_hpa(3, target=2)], "autoscaling")[0].message


def test_quota_refusing_pods_is_atl231_and_used_up_quota_atl232() -> None:
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": meta("compute"),
        "status": {
            "hard": {"pods": "7", "limits.memory": "2Gi"},
            "used": {"pods": "7", "limits.memory": "1Gi"},
        },
    }
    assert [f.code for f in _found([quota], "quota")] == ["ATL232"]
    objs = deployment("cart") + [quota]
    rs = next(o for o in objs if o["kind"] == "ReplicaSet")
    objs.append(
        event(
            rs,
            "FailedCreate",
            'Error creating: pods "cart-5d9c7b8f6c-x" is forbidden: exceeded quota: '
            "compute, requested: pods=1, used: pods=7, limited: pods=7",
        )
    )
    found = _found(objs, "quota")
    assert [f.line for f in found] == [
        "Error [ATL231] (ResourceQuota shop/compute) ResourceQuota compute refuses new pods for "
        "shop/Deployment/cart "
        "(pods 7/7 used)."
    ]

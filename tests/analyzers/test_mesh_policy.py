"""Security and traffic-policy analyzers: STRICT mTLS vs out-of-mesh clients, DR TLS, authorization
policies (static and from access logs), fault injection, timeouts, pools, outlier detection, Sidecars."""

from __future__ import annotations

from analyzer_objects import access, healthy_mesh, istio, pods, snap

from atlas_sre.analyzers import Level, LogRequest, log_requests, run_analyzers

INBOUND = "inbound|9080||"
OUT_REVIEWS = "outbound|9080|v1|reviews.shop.svc.cluster.local"


def _found(objs: list, name: str, **kw: object) -> list:
    return run_analyzers(snap(objs, **kw), names=[name])


def _obj(objs: list, kind: str, name: str) -> dict:
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)


def _unmesh(objs: list, app: str) -> None:
    for pod in pods(objs):
        if pod["metadata"]["labels"].get("app") == app:
            pod["spec"]["containers"] = [c for c in pod["spec"]["containers"] if c["name"] != "istio-proxy"]
            pod["metadata"]["labels"]["sidecar.istio.io/inject"] = "false"


def test_client_without_sidecar_calling_strict_service_is_atl101() -> None:
    objs = healthy_mesh()
    _unmesh(objs, "frontend")
    found = _found(objs, "mtls-clients")
    assert [(f.code, f.resource.entity) for f in found] == [("ATL101", "shop/Deployment/frontend")]
    assert "calls reviews (REVIEWS_ADDR=reviews:9080)" in found[0].message
    assert "PeerAuthentication shop/default is STRICT" in found[0].message
    _obj(objs, "PeerAuthentication", "default")["spec"]["mtls"]["mode"] = "PERMISSIVE"
    assert _found(objs, "mtls-clients") == []


def test_workload_policy_overrides_namespace_strict() -> None:
    objs = healthy_mesh()
    _unmesh(objs, "frontend")
    objs.append(
        istio(
            "PeerAuthentication",
            "reviews-permissive",
            {"selector": {"matchLabels": {"app": "reviews"}}, "mtls": {"mode": "PERMISSIVE"}},
        )
    )
    assert _found(objs, "mtls-clients") == []


def test_unmeshed_server_in_strict_namespace_is_atl102_and_namespace_atl103() -> None:
    objs = healthy_mesh()
    _unmesh(objs, "reviews")
    found = _found(objs, "mtls-clients")
    assert [(f.code, f.level) for f in found] == [("ATL102", Level.WARNING)]
    _obj(objs, "Namespace", "shop")["metadata"]["labels"]["istio-injection"] = "disabled"
    codes = [(f.code, f.resource.entity) for f in _found(objs, "mtls-clients")]
    assert ("ATL103", "Namespace/shop") in codes


def test_destination_rule_tls_disable_against_strict_is_atl104() -> None:
    objs = healthy_mesh()
    dr = _obj(objs, "DestinationRule", "reviews")
    dr["spec"]["trafficPolicy"] = {"tls": {"mode": "DISABLE"}}
    found = _found(objs, "dr-tls")
    assert [(f.code, f.level, f.resource.entity) for f in found] == [
        ("ATL104", Level.ERROR, "shop/DestinationRule/reviews")
    ]
    dr["spec"]["trafficPolicy"] = {"tls": {"mode": "SIMPLE"}}
    assert sorted(f.code for f in _found(objs, "dr-tls")) == ["ATL104", "IST0128"]
    dr["spec"]["trafficPolicy"] = {"tls": {"mode": "ISTIO_MUTUAL"}}
    assert _found(objs, "dr-tls") == []


def _deny(objs: list, rules: list, name: str = "reviews-deny") -> None:
    objs.append(
        istio(
            "AuthorizationPolicy",
            name,
            {"selector": {"matchLabels": {"app": "reviews"}}, "action": "DENY", "rules": rules},
        )
    )


def test_deny_policy_static_rules() -> None:
    objs = healthy_mesh()
    _deny(objs, [{"to": [{"operation": {"methods": ["GET", "DELETE"]}}]}])
    assert [f.line for f in _found(objs, "authz")] == [
        "Warning [ATL112] (AuthorizationPolicy shop/reviews-deny) DENY rule[0] rejects GET requests from any "
        "source "
        "to shop/Deployment/reviews-v1."
    ]
    objs[-1]["spec"]["rules"] = [{}]
    assert [f.code for f in _found(objs, "authz")] == ["ATL111"]
    objs[-1]["spec"]["rules"] = [{"from": [{"source": {"namespaces": ["untrusted"]}}]}]
    assert _found(objs, "authz") == []


def test_deny_policy_matching_live_traffic_is_atl110_from_logs() -> None:
    objs = healthy_mesh()
    _deny(objs, [{"to": [{"operation": {"paths": ["/admin"]}}]}])
    s = snap(objs)
    server = next(
        p["metadata"]["name"] for p in pods(objs) if p["metadata"]["labels"].get("app") == "reviews"
    )
    assert LogRequest("shop", server) in log_requests(s, ["authz"])
    line = access(
        403, "-", "rbac_access_denied_matched_policy[ns[shop]-policy[reviews-deny]-rule[0]]", 0, INBOUND
    )
    s.logs = {LogRequest("shop", server): [line] * 3}
    found = run_analyzers(s, names=["authz"])
    assert [(f.code, f.level) for f in found] == [("ATL110", Level.ERROR)]
    assert "matched 3 live request(s)" in found[0].message and found[0].evidence == (line,)


def test_allow_policy_with_unknown_principal_and_none_matches() -> None:
    objs = healthy_mesh()
    objs.append(
        istio(
            "AuthorizationPolicy",
            "reviews-allow",
            {
                "selector": {"matchLabels": {"app": "reviews"}},
                "action": "ALLOW",
                "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/svc-frontend"]}}]}],
            },
        )
    )
    objs.append(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "frontend", "namespace": "shop"}}
    )
    found = _found(objs, "authz")
    assert [(f.code, f.level) for f in found] == [("ATL113", Level.WARNING)]
    assert found[0].related == ("shop/ServiceAccount/svc-frontend",)
    s = snap(objs)
    server = next(
        p["metadata"]["name"] for p in pods(objs) if p["metadata"]["labels"].get("app") == "reviews"
    )
    s.logs = {
        LogRequest("shop", server): [access(403, "-", "rbac_access_denied_matched_policy[none]", 0, INBOUND)]
    }
    assert [(f.code, f.level) for f in run_analyzers(s, names=["authz"])] == [("ATL113", Level.ERROR)]


def test_allow_rule_with_http_fields_in_front_of_tcp_port_names_the_service() -> None:
    objs = healthy_mesh()
    objs.append(
        istio(
            "AuthorizationPolicy",
            "reviews-allow",
            {
                "selector": {"matchLabels": {"app": "reviews"}},
                "action": "ALLOW",
                "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}],
            },
        )
    )
    assert _found(objs, "authz") == []
    _obj(objs, "Service", "reviews")["spec"]["ports"][0]["name"] = "tcp-web"
    found = _found(objs, "authz")
    assert [f.code for f in found] == ["ATL113"] and "shop/Service/reviews" in found[0].related


def _reviews_allow_get(objs: list) -> None:
    objs.append(istio("AuthorizationPolicy", "reviews-allow", {
        "selector": {"matchLabels": {"app": "reviews"}}, "action": "ALLOW",
        "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]}))


def test_a_tcp_port_that_says_it_carries_http_is_the_cause_atl126() -> None:
    objs = healthy_mesh()
    _reviews_allow_get(objs)
    _obj(objs, "Service", "reviews")["spec"]["ports"][0]["name"] = "tcp-http"  # a prefix before the real protocol
    found = _found(objs, "authz")
    assert [(f.code, f.level, f.resource.entity) for f in found] == [("ATL126", Level.WARNING, "shop/Service/reviews")]
    assert found[0].related == ("shop/AuthorizationPolicy/reviews-allow",)
    assert found[0].message.startswith("Port tcp-http (9080) is declared TCP but carries http: AuthorizationPolicy "
                                       "shop/reviews-allow admits callers of shop/Deployment/reviews-v1 by HTTP fields")
    s = snap(objs)
    server = next(p["metadata"]["name"] for p in pods(objs) if p["metadata"]["labels"].get("app") == "reviews")
    s.logs = {LogRequest("shop", server): [access(403, "-", "rbac_access_denied_matched_policy[none]", 0, INBOUND)]}
    [live] = run_analyzers(s, names=["authz"])
    assert (live.code, live.level) == ("ATL126", Level.ERROR) and "1 live request(s)" in live.message


def test_the_container_port_can_say_what_a_tcp_service_port_carries() -> None:
    objs = healthy_mesh()
    _reviews_allow_get(objs)
    _obj(objs, "Service", "reviews")["spec"]["ports"][0]["name"] = "tcp"
    assert [f.code for f in _found(objs, "authz")] == ["ATL113"]  # nothing says it is not really TCP
    for pod in pods(objs):
        if pod["metadata"]["labels"].get("app") == "reviews":
            pod["spec"]["containers"][0]["ports"] = [{"containerPort": 9080, "name": "grpc"}]
    assert [(f.code, f.resource.entity) for f in _found(objs, "authz")] == [("ATL126", "shop/Service/reviews")]


def test_policy_selecting_nothing_is_ist0127() -> None:
    objs = healthy_mesh()
    objs.append(
        istio(
            "AuthorizationPolicy",
            "ghost",
            {"selector": {"matchLabels": {"app": "ghost"}}, "action": "DENY", "rules": [{}]},
        )
    )
    assert [f.line for f in _found(objs, "authz")] == [
        "Warning [IST0127] (AuthorizationPolicy shop/ghost) No matching workloads for this resource with the "
        "following labels: app=ghost"
    ]


def test_fault_injection_pool_and_outlier_settings() -> None:
    objs = healthy_mesh()
    rule = _obj(objs, "VirtualService", "reviews")["spec"]["http"][0]
    rule["fault"] = {"abort": {"httpStatus": 503, "percentage": {"value": 100}}}
    assert [f.line for f in _found(objs, "fault-injection")] == [
        "Error [ATL120] (VirtualService shop/reviews) Fault injection abort (503 for 100% of requests) is "
        "active on "
        "http route[0] to reviews; callers see 503 FI (fault injected)."
    ]
    dr = _obj(objs, "DestinationRule", "reviews")
    dr["spec"]["trafficPolicy"] = {
        "connectionPool": {"tcp": {"maxConnections": 1}},
        "outlierDetection": {"consecutive5xxErrors": 1, "maxEjectionPercent": 100},
    }
    assert [f.code for f in _found(objs, "traffic-policy")] == ["ATL122", "ATL123"]
    dr["spec"]["trafficPolicy"] = {
        "connectionPool": {"tcp": {"maxConnections": 100}},
        "outlierDetection": {"consecutive5xxErrors": 5, "maxEjectionPercent": 50},
    }
    assert _found(objs, "traffic-policy") == []


def _timeout_snapshot(timeout: str, lines: list[str], server_lines: list[str]) -> object:
    objs = healthy_mesh()
    _obj(objs, "VirtualService", "reviews")["spec"]["http"][0]["timeout"] = timeout
    s = snap(objs)
    reqs = log_requests(s, ["route-timeout"])
    server = next(r for r in reqs if r.pod.startswith("reviews"))
    client = next(r for r in reqs if r.pod.startswith("frontend"))
    s.logs = {client: lines, server: server_lines}
    return s


def test_timeout_below_observed_latency_from_access_logs() -> None:
    ut = access(504, "UT", "response_timeout", 20, OUT_REVIEWS)
    cut = access(0, "DC", "downstream_remote_disconnect", 20, INBOUND)
    s = _timeout_snapshot("20ms", [ut] * 4, [cut] * 4)
    found = run_analyzers(s, names=["route-timeout"])
    assert [(f.code, f.resource.entity) for f in found] == [("ATL121", "shop/VirtualService/reviews")]
    assert "4 caller request(s) ended 504 UT" in found[0].message and "4 of 4 inbound" in found[0].message
    ok = access(200, "-", "via_upstream", 15, INBOUND)
    assert run_analyzers(_timeout_snapshot("2s", [], [ok] * 5), names=["route-timeout"]) == []


def test_timeout_is_not_blamed_when_the_destination_waits_on_failing_dependencies() -> None:
    ut = access(504, "UT", "response_timeout", 2000, OUT_REVIEWS)
    cut = access(0, "DC", "downstream_remote_disconnect", 2000, INBOUND)
    dep = access(
        503,
        "URX,UF",
        "upstream_reset_before_response_started{connection_timeout}",
        1990,
        "outbound|27017||mongodb.shop.svc.cluster.local",
    )
    assert run_analyzers(_timeout_snapshot("2s", [ut] * 4, [cut, dep] * 4), names=["route-timeout"]) == []
    fast = access(503, "UH", "no_healthy_upstream", 0, "outbound|27017||mongodb.shop.svc.cluster.local")
    tcp_ok = ('[2026-11-26T09:59:51.789Z] "- - -" 0 - - - "-" 120 3400 60000 - "-" "-" "-" "-" '
              '"10.244.0.9:27017" outbound|27017||mongodb.shop.svc.cluster.local 10.244.0.5:4 '
              "10.96.0.9:27017 - -")
    found = run_analyzers(_timeout_snapshot("2s", [ut] * 4, [cut, fast, tcp_ok] * 4), names=["route-timeout"])
    assert [f.code for f in found] == ["ATL121"]  # fast failures and long-lived TCP do not explain latency


def test_sidecar_egress_hiding_a_dependency_is_atl124() -> None:
    objs = healthy_mesh()
    objs.append(
        istio(
            "Sidecar",
            "frontend-egress",
            {
                "workloadSelector": {"labels": {"app": "frontend"}},
                "egress": [{"hosts": ["./details.shop.svc.cluster.local", "istio-system/*"]}],
                "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"},
            },
        )
    )
    found = _found(objs, "sidecar-egress")
    assert [(f.code, f.level) for f in found] == [("ATL124", Level.ERROR)]
    assert (
        "omit reviews.shop.svc.cluster.local" in found[0].message and "BlackHoleCluster" in found[0].message
    )
    objs[-1]["spec"]["egress"][0]["hosts"].append("./*")
    assert _found(objs, "sidecar-egress") == []

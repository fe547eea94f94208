"""The mesh room's building blocks on hand-built objects: address resolution, routing, policy, pools."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from atlas_sre.sim.mesh import pool
from atlas_sre.sim.mesh.model import Response, compress
from atlas_sre.sim.mesh.policy import Caller, authorize, mtls_mode
from atlas_sre.sim.mesh.resolve import container_env, lookup_service, parse_address
from atlas_sre.sim.mesh.routing import egress_visible, port_protocol, rule_host, traffic_policy, weighted
from atlas_sre.sim.mesh.world import Instance, World


def obj(kind: str, name: str, ns: str | None = "shop", **rest: Any) -> dict[str, Any]:
    md: dict[str, Any] = {"name": name}
    if ns:
        md["namespace"] = ns
    return {"apiVersion": "v1", "kind": kind, "metadata": md, **rest}


def ready_pod(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return obj("Pod", name, labels=None, spec={"containers": [{"name": "app", "image": "x"}]},
               status={"podIP": "10.244.0.5", "conditions": [{"type": "Ready", "status": "True"}]}) | {
        "metadata": {"name": name, "namespace": "shop", "labels": labels}}


def test_parse_address_forms() -> None:
    assert parse_address("http://reviews.shop:9080/x") == parse_address("reviews.shop:9080")
    assert parse_address("reviews:9080").authority == "reviews:9080"
    assert parse_address("https://api.example.com").port == 443
    assert parse_address("db").port == 80


def test_service_lookup_follows_the_search_path() -> None:
    svc = obj("Service", "reviews", spec={"clusterIP": "10.96.1.2"})
    world = World([svc, obj("Service", "other", "ops")], {})
    for name in ("reviews", "reviews.shop", "reviews.shop.svc", "reviews.shop.svc.cluster.local", "10.96.1.2"):
        assert lookup_service(world, name, "shop") is svc
    assert lookup_service(world, "reviews", "ops") is None
    assert lookup_service(world, "reviews.shop.cluster", "shop") is None


def test_container_env_resolves_refs_and_expansion() -> None:
    secret = obj("Secret", "creds", data={"PASS": base64.b64encode(b"s3cret").decode()})
    cm = obj("ConfigMap", "cfg", data={"HOST": "db", "PORT": "5432"})
    container = {"envFrom": [{"configMapRef": {"name": "cfg"}}],
                 "env": [{"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "PASS"}}},
                         {"name": "URL", "value": "postgres://$(HOST):$(PORT)"}]}
    env = container_env(World([secret, cm], {}), "shop", container)
    assert env["PASS"] == "s3cret" and env["URL"] == "postgres://db:5432"


def test_rule_hosts_and_port_protocols() -> None:
    assert rule_host("reviews", "shop") == "reviews.shop.svc.cluster.local"
    assert rule_host("reviews.shop", "shop") == "reviews.shop"  # dotted names are literal, as in Istio
    assert port_protocol({"name": "http-web"}) == "http" and port_protocol({"name": "grpc"}) == "http"
    assert port_protocol({"name": "tcp-api"}) == "tcp" and port_protocol({"name": "redis"}) == "tcp"
    assert port_protocol({}) == "http" and port_protocol({}, "tcp") == "tcp"
    assert port_protocol({"name": "web", "appProtocol": "http"}) == "http"


def test_weights_and_policy_layers() -> None:
    shares = weighted([{"destination": {"subset": "a"}, "weight": 80}, {"destination": {"subset": "b"}, "weight": 20}])
    assert [(round(w, 2), d["subset"]) for w, d in shares] == [(0.8, "a"), (0.2, "b")]
    assert [w for w, _ in weighted([{"destination": {}}, {"destination": {}}])] == [0.5, 0.5]
    dr = {"spec": {"trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}, "portLevelSettings": [
        {"port": {"number": 9080}, "connectionPool": {"tcp": {"maxConnections": 3}}}]},
        "subsets": [{"name": "v2", "trafficPolicy": {"tls": {"mode": "DISABLE"}}}]}}
    assert traffic_policy(dr, "v2", 9080) == {"tls": {"mode": "DISABLE"},
                                              "connectionPool": {"tcp": {"maxConnections": 3}}}
    assert traffic_policy(dr, "", 80) == {"tls": {"mode": "ISTIO_MUTUAL"}}


def test_sidecar_egress_visibility() -> None:
    sc = {"spec": {"egress": [{"hosts": ["./db.shop.svc.cluster.local", "istio-system/*"]}]}}
    assert egress_visible(sc, "shop", "shop", "db.shop.svc.cluster.local")
    assert not egress_visible(sc, "shop", "shop", "backend.shop.svc.cluster.local")
    assert egress_visible(sc, "shop", "istio-system", "istiod.istio-system.svc.cluster.local")
    assert egress_visible(None, "shop", "shop", "anything")


def test_peer_authentication_precedence() -> None:
    pod = ready_pod("api-1", {"app": "api"})
    mesh = obj("PeerAuthentication", "default", "istio-system", spec={"mtls": {"mode": "STRICT"}})
    workload = obj("PeerAuthentication", "api", spec={"selector": {"matchLabels": {"app": "api"}},
                                                      "mtls": {"mode": "UNSET"},
                                                      "portLevelMtls": {"8080": {"mode": "DISABLE"}}})
    world = World([pod, mesh, workload], {})
    inst = next(iter(world.instances.values()))
    assert mtls_mode(world, inst, 9090) == "STRICT"  # UNSET inherits the mesh-wide mode
    assert mtls_mode(world, inst, 8080) == "DISABLE"
    assert mtls_mode(World([pod], {}), inst, 8080) == "PERMISSIVE"


def _inst() -> Instance:
    return Instance("shop/api", "shop", "api", "api", [], {"app": "api"}, True, "default")


def test_authorization_deny_then_allow() -> None:
    deny = obj("AuthorizationPolicy", "no-admin", spec={"action": "DENY", "rules": [
        {"to": [{"operation": {"paths": ["/admin*"]}}]}]})
    allow = obj("AuthorizationPolicy", "front", spec={"selector": {"matchLabels": {"app": "api"}}, "rules": [
        {"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/frontend"]}}]}]})
    world = World([deny, allow], {})
    front = Caller("cluster.local/ns/shop/sa/frontend", "shop", "/items", "GET", "api:80", 8080)
    assert authorize(world, _inst(), front) is None
    admin = Caller("cluster.local/ns/shop/sa/frontend", "shop", "/admin/x", "GET", "api:80", 8080)
    assert authorize(world, _inst(), admin) == "rbac_access_denied_matched_policy[ns[shop]-policy[no-admin]-rule[0]]"
    plaintext = Caller(None, None, "/items", "GET", "api:80", 8080)
    assert authorize(world, _inst(), plaintext) == "rbac_access_denied_matched_policy[none]"
    # on a TCP port, HTTP-only fields make the DENY rule match everything it can still see
    assert authorize(world, _inst(), front, tcp=True) == \
        "rbac_access_denied_matched_policy[ns[shop]-policy[no-admin]-rule[0]]"
    nothing = obj("AuthorizationPolicy", "allow-nothing", spec={})
    assert authorize(World([nothing], {}), _inst(), front) == "rbac_access_denied_matched_policy[none]"


def test_overflow_and_ejection_math() -> None:
    assert pool.blocking(1.0, 1, 2) == pytest.approx(1 / 3)
    assert pool.blocking(0.0, 1, 2) == 0.0
    tiny = {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}
    assert pool.overflow_share(tiny, 20, 50) == pytest.approx(1 / 3)
    assert pool.overflow_share({}, 20, 50) == 0.0
    assert pool.overflow_share({"tcp": {"maxConnections": 100}}, 20, 50) < 1e-9
    od = {"consecutive5xxErrors": 1, "baseEjectionTime": "30s"}
    assert pool.ejection_share(od, 1.0, 1.0) == pytest.approx(30 / 31)
    assert pool.ejection_share(od, 0.0, 10.0) == 0.0
    assert pool.ejection_share({"consecutive5xxErrors": 5}, 0.01, 10.0) < 1e-6
    assert pool.all_ejected_allowed({}, 1) and not pool.all_ejected_allowed({}, 2)
    assert pool.all_ejected_allowed({"maxEjectionPercent": 100}, 3)
    assert pool.duration_ms("1.5s") == 1500 and pool.duration_ms("250ms") == 250 and pool.duration_ms("2m") == 120_000


def test_retry_policy() -> None:
    retries, on = pool.retry_policy({})
    assert retries == 2 and pool.retriable(Response(503), on) and not pool.retriable(Response(500), on)
    assert pool.retriable(Response(503, "UF"), on) and not pool.retriable(Response(503, "UC"), on)
    assert pool.retry_policy({"retries": {"attempts": 0}})[0] == 0
    assert pool.retriable(Response(500), pool.retry_policy({"retries": {"attempts": 3, "retryOn": "5xx"}})[1])


def test_compress_bounds_latency_points() -> None:
    dist = [(0.01, Response(200, latency_ms=float(i))) for i in range(100)]
    small = compress(dist, limit=8)
    assert len(small) == 8 and sum(f for f, _ in small) == pytest.approx(1.0)
    assert compress([(0.5, Response(200, latency_ms=1.0)), (0.5, Response(200, latency_ms=1.0))]) == [
        (1.0, Response(200, latency_ms=1.0))]

"""mTLS, authorization, NetworkPolicy, DNS and port faults: who logs what, and what the caller's app sees."""

from __future__ import annotations

import re
from typing import Any

from test_mesh_fixtures import (
    IP,
    NS,
    STAMP,
    UUID,
    access,
    alerts,
    edit,
    entry_codes,
    env_of,
    lines,
    manifests,
    outbound,
    pods,
    run,
    series,
)

CLUSTER = "outbound|8080||backend.shop.svc.cluster.local"
STRICT = {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
          "metadata": {"name": "default", "namespace": NS}, "spec": {"mtls": {"mode": "STRICT"}}}


def inbound(code: str, flags: str, details: str, upstream: str, local: str, transport: str = "-") -> re.Pattern[str]:
    """An exact pattern for the backend sidecar's inbound line for the frontend's call."""
    return re.compile(
        rf'^{STAMP} "GET /api/items HTTP/1\.1" {code} {re.escape(flags)} {re.escape(details)} - '
        rf'"{re.escape(transport)}" 0 \d+ \d+ (\d+|-) "-" "Go-http-client/1\.1" "{UUID}" "backend:8080" '
        rf'"{upstream}" inbound\|8080\|\| {local} {IP}:8080 {IP}:\d+ '
        rf'outbound_\.8080_\._\.backend\.shop\.svc\.cluster\.local default$')


def policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"name": name, "namespace": NS}, "spec": spec}


def out_of_mesh(objs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return edit(objs, "Deployment", name, lambda d: d["spec"]["template"]["metadata"]["labels"].update(
        {"sidecar.istio.io/inject": "false"}))


def test_strict_mtls_resets_a_client_outside_the_mesh_and_only_the_caller_logs_it() -> None:
    state = run(out_of_mesh(manifests() + [STRICT], "frontend-v1"))
    assert [c["name"] for c in pods(state, "frontend")[0]["spec"]["containers"]] == ["frontend"]
    errors = [t for t in lines(state, "frontend", "frontend") if t.startswith("ERROR")]
    assert errors and all(re.fullmatch(
        rf'ERROR \[frontend\] call to backend failed: Get "http://backend:8080/api/items": read tcp {IP}:\d+->'
        rf'10\.96\.\d+\.\d+:8080: read: connection reset by peer', t) for t in errors)
    assert not [t for t in access(state, "backend") if "inbound|8080||" in t]  # the server side logs nothing
    assert entry_codes(state) == {"503": 10.0}
    assert [a["service"] for a in alerts(state, "HighRequestErrorRate")] == ["frontend"]


def test_destination_rule_tls_disable_against_strict_gives_uc_at_the_client_proxy() -> None:
    dr = {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
          "metadata": {"name": "backend", "namespace": NS},
          "spec": {"host": "backend", "trafficPolicy": {"tls": {"mode": "DISABLE"}}}}
    state = run(manifests() + [STRICT, dr])
    uc = outbound("503", "UC", "upstream_reset_before_response_started{connection_termination}", "backend:8080",
                  IP + ":8080", CLUSTER, "default")
    found = [t for t in access(state, "frontend") if uc.match(t)]
    assert found and all(' 0 95 ' in t for t in found)
    assert not [t for t in access(state, "backend") if "inbound|8080||" in t]
    healthy = run(manifests() + [STRICT])
    assert entry_codes(healthy) == {"200": 10.0}  # auto-mTLS satisfies STRICT
    assert alerts(healthy) == []


def test_deny_policy_is_logged_by_the_destination_proxy_with_the_policy_name() -> None:
    frontend_identity = {"source": {"principals": ["cluster.local/ns/shop/sa/default"]}}
    deny = policy("deny-frontend", {"selector": {"matchLabels": {"app": "backend"}}, "action": "DENY",
                                    "rules": [{"from": [frontend_identity]}]})
    state = run(manifests() + [deny])
    rbac = inbound("403", "-", "rbac_access_denied_matched_policy[ns[shop]-policy[deny-frontend]-rule[0]]", "-", "-")
    found = [t for t in access(state, "backend") if rbac.match(t)]
    assert found and all(' 0 19 0 - "-"' in t for t in found)
    assert [t for t in access(state, "frontend") if outbound("403", "-", "via_upstream", "backend:8080", IP + ":8080",
                                                                CLUSTER, "default").match(t)]
    assert "ERROR [frontend] call to backend failed: 403 RBAC: access denied" in lines(state, "frontend", "frontend")


def test_allow_policy_denies_whatever_it_does_not_allow() -> None:
    allow = policy("only-ops", {"selector": {"matchLabels": {"app": "backend"}},
                                "rules": [{"from": [{"source": {"namespaces": ["ops"]}}]}]})
    state = run(manifests() + [allow])
    rbac = inbound("403", "-", "rbac_access_denied_matched_policy[none]", "-", "-")
    assert [t for t in access(state, "backend") if rbac.match(t)]
    permitted = policy("from-shop", {"selector": {"matchLabels": {"app": "backend"}},
                                     "rules": [{"from": [{"source": {"namespaces": ["shop"]}}],
                                                "to": [{"operation": {"methods": ["GET"], "paths": ["/api/*"]}}]}]})
    ok = run(manifests() + [permitted])
    assert entry_codes(ok) == {"200": 10.0}


def test_network_policy_drop_times_out_through_the_sidecar() -> None:
    netpol = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "deny", "namespace": NS},
              "spec": {"podSelector": {"matchLabels": {"app": "backend"}}, "policyTypes": ["Ingress"],
                       "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "nobody"}}}]}]}}
    state = run(manifests() + [netpol])
    timeout = outbound("503", "URX,UF", "upstream_reset_before_response_started{connection_timeout}", "backend:8080",
                       IP + ":8080", CLUSTER, "default")
    found = [t for t in access(state, "frontend") if timeout.match(t)]
    assert found and all(" 0 114 30050 - " in t for t in found)  # 3 tries x 10s connect timeout + back-off
    plain = run(out_of_mesh(manifests() + [netpol], "frontend-v1"))
    assert [t for t in lines(plain, "frontend", "frontend") if re.fullmatch(
        r'ERROR \[frontend\] call to backend failed: Get "http://backend:8080/api/items": dial tcp '
        r'10\.96\.\d+\.\d+:8080: i/o timeout', t)]
    allowed = dict(netpol, spec={**netpol["spec"], "ingress": [{"from": [{"podSelector": {"matchLabels": {
        "app": "frontend"}}}], "ports": [{"port": 8080}]}]})
    assert entry_codes(run(manifests() + [allowed])) == {"200": 10.0}


def test_missing_service_fails_dns_in_the_callers_app_and_no_proxy_logs_it() -> None:
    objs = edit(manifests(), "Deployment", "frontend-v1",
                lambda d: env_of(d).__setitem__(0, {"name": "BACKEND_ADDR", "value": "backendx:8080"}))
    state = run(objs)
    assert ('ERROR [frontend] call to backend failed: Get "http://backendx:8080/api/items": dial tcp: lookup backendx '
            'on 10.96.0.10:53: no such host') in lines(state, "frontend", "frontend")
    assert not [t for t in access(state, "frontend") if "/api/items" in t]
    assert [a["service"] for a in alerts(state, "HighRequestErrorRate")] == ["frontend"]


def test_dns_policy_without_cluster_dns_cannot_resolve_services() -> None:
    objs = edit(manifests(), "Deployment", "frontend-v1", lambda d: d["spec"]["template"]["spec"].update(
        {"dnsPolicy": "None", "dnsConfig": {"nameservers": ["1.1.1.1"]}}))
    state = run(objs)
    errors = lines(state, "frontend", "frontend")
    assert any("dial tcp: lookup backend on 1.1.1.1:53: no such host" in t for t in errors)


def test_wrong_target_port_is_refused_behind_the_destination_sidecar() -> None:
    objs = edit(manifests(), "Service", "backend", lambda s: s["spec"]["ports"][0].__setitem__("targetPort", 9999))
    state = run(objs)
    refused = re.compile(
        rf'^{STAMP} "GET /api/items HTTP/1\.1" 503 UF upstream_reset_before_response_started\{{connection_failure,'
        rf'delayed_connect_error:_111\}} - "delayed_connect_error:_111" 0 145 0 - "-" "Go-http-client/1\.1" "{UUID}" '
        rf'"backend:8080" "{IP}:9999" inbound\|9999\|\| - {IP}:9999 {IP}:\d+ '
        rf'outbound_\.8080_\._\.backend\.shop\.svc\.cluster\.local default$')
    assert [t for t in access(state, "backend") if refused.match(t)]
    assert [t for t in access(state, "frontend") if outbound("503", "URX", "via_upstream", "backend:8080", IP + ":9999",
                                                                CLUSTER, "default").match(t)]
    assert series(state, reporter="destination", response_flags="UF", destination_service_name="backend")

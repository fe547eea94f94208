"""Reading a cluster through a kubectl callable, and `analyze` as an agent tool and a CLI."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from analyzer_objects import access, healthy_mesh, istio

from atlas_sre.analyzers import (
    TOOL_NAME,
    analyze_tool,
    fetch_snapshot,
    log_requests,
    parse_args,
)
from atlas_sre.analyzers.fetch import ISTIO_TYPES, MAX_LOG_PODS
from atlas_sre.commands import CommandConfig, CommandRunner, ToolContext
from atlas_sre.environments import default_tools


class FakeKubectl:
    """Answers like kubectl would for a fixed object list; records every argv."""

    def __init__(self, objects: list[dict], istio: bool = True, discovery: bool = True) -> None:
        self.objects, self.istio, self.discovery = objects, istio, discovery
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> tuple[int, str, str]:
        args = list(args)
        self.calls.append(args)
        if args[0] == "api-resources":
            if not self.discovery:
                return 1, "", "error: couldn't get resource list\n"
            names = ["pods", "services", "deployments.apps", "events", "namespaces"]
            return 0, "\n".join(names + (list(ISTIO_TYPES) if self.istio else [])) + "\n", ""
        if args[:2] == ["get", "secrets"]:
            return 0, "istio-system   shop-cert   kubernetes.io/tls   2   5d\n", ""
        if args[0] == "get":
            types = args[1].split(",")
            if not self.istio and (bad := next((t for t in types if "istio.io" in t), None)):
                return 1, "", f'error: the server doesn\'t have a resource type "{bad.split(".")[0]}"\n'
            return 0, json.dumps({"apiVersion": "v1", "kind": "List", "items": self.objects}), ""
        if args[0] == "logs":
            line = access(
                403,
                "-",
                "rbac_access_denied_matched_policy[ns[shop]-policy[deny]-rule[0]]",
                0,
                "inbound|9080||",
            )
            return 0, line + "\n", ""
        return 1, "", "unexpected\n"


def test_one_get_for_every_served_kind_plus_secret_names() -> None:
    kubectl = FakeKubectl(healthy_mesh())
    snap = fetch_snapshot(kubectl)
    gets = [c for c in kubectl.calls if c[0] == "get" and c[1] != "secrets"]
    assert len(gets) == 1 and gets[0][2:] == ["-A", "-o", "json"]
    assert gets[0][1].split(",") == [
        "namespaces",
        "pods",
        "services",
        "events",
        "deployments.apps",
        *ISTIO_TYPES,
    ]
    assert snap.istio_served and snap.secret_exists("istio-system", "shop-cert") is True
    assert len(snap.of_kind("VirtualService")) == 2 and snap.errors == []


def test_unserved_istio_kinds_are_dropped_and_retried_without_discovery() -> None:
    kubectl = FakeKubectl(healthy_mesh(), istio=False, discovery=False)
    snap = fetch_snapshot(kubectl)
    gets = [c for c in kubectl.calls if c[0] == "get" and c[1] != "secrets"]
    assert len(gets) == len(ISTIO_TYPES) + 1  # each unknown type named by kubectl is dropped in turn
    assert "istio.io" not in gets[-1][1] and not snap.istio_served and snap.objects


def test_logs_are_read_only_when_asked_and_bounded() -> None:
    objs = healthy_mesh() + [
        istio(
            "AuthorizationPolicy",
            "deny",
            {"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/x"]}}]}]},
        )
    ]
    kubectl = FakeKubectl(objs)
    snap = fetch_snapshot(kubectl, log_requests=log_requests)
    logs = [c for c in kubectl.calls if c[0] == "logs"]
    assert logs and len(logs) <= MAX_LOG_PODS
    assert all(c[c.index("-c") + 1] == "istio-proxy" and c[-1] == "--tail=200" for c in logs)
    assert all(len(lines) == 1 for lines in snap.logs.values())
    quiet = FakeKubectl(objs)
    assert fetch_snapshot(quiet).logs == {} and not [c for c in quiet.calls if c[0] == "logs"]


def test_parse_args() -> None:
    assert parse_args(["-n", "shop", "--json"]).namespace == "shop"
    assert parse_args(["--namespace=shop", "-o", "json"]).as_json
    assert parse_args(["-A", "--analyzers", "authz,quota", "--no-logs"]).analyzers == ["authz", "quota"]
    for bad in (["-n"], ["--frobnicate"], ["-n", "a", "-A"]):
        with pytest.raises(ValueError):
            parse_args(bad)


def _ctx(kubectl: FakeKubectl, namespace: str | None = "shop") -> ToolContext:
    return ToolContext(config=CommandConfig(namespace=namespace), kubectl=kubectl)


def test_tool_defaults_to_the_configured_namespace_and_reports_like_istioctl() -> None:
    objs = healthy_mesh()
    objs.append(
        istio(
            "VirtualService",
            "broken",
            {"hosts": ["x"], "http": [{"route": [{"destination": {"host": "nope"}}]}]},
        )
    )
    code, text = analyze_tool([TOOL_NAME], _ctx(FakeKubectl(objs)))
    assert code == 79
    assert text.splitlines()[:2] == [
        'Error [IST0101] (VirtualService shop/broken) Referenced host not found: "nope"',
        "Error: Analyzers found issues when analyzing namespace: shop.",
    ]
    code, text = analyze_tool([TOOL_NAME, "-n", "other"], _ctx(FakeKubectl(objs)))
    assert (code, text) == (0, "\u2714 No validation issues found when analyzing namespace: other.\n")
    code, text = analyze_tool([TOOL_NAME, "--json"], _ctx(FakeKubectl(objs), None))
    assert json.loads(text)["findings"][0]["resource"] == "shop/VirtualService/broken"


def test_tool_usage_errors_and_unreadable_cluster() -> None:
    code, text = analyze_tool([TOOL_NAME, "--analyzers", "nope"], _ctx(FakeKubectl([])))
    assert code == 2 and "unknown analyzer(s) nope" in text
    assert analyze_tool([TOOL_NAME, "-h"], _ctx(FakeKubectl([])))[1].startswith("usage: analyze")

    def broken(args: Sequence[str]) -> tuple[int, str, str]:
        return 1, "", "The connection to the server 127.0.0.1:9 was refused\n"

    code, text = analyze_tool([TOOL_NAME], ToolContext(config=CommandConfig(), kubectl=broken))
    assert code == 1 and "cannot read the cluster" in text and "was refused" in text


def test_passed_tool_runs_through_the_command_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_tools() == {TOOL_NAME: analyze_tool}
    runner = CommandRunner(CommandConfig(), tools=default_tools())
    monkeypatch.setattr(runner, "_tool_kubectl", FakeKubectl(healthy_mesh()))
    result = runner.run("atlas-sre analyze -n shop | head -1")
    assert result.observation == "\u2714 No validation issues found when analyzing namespace: shop.\n"
    refused = runner.run("analyze --kubeconfig /etc/other")
    assert refused.refused and refused.exit_code == 3

"""analyzers room: deterministic checks over Kubernetes/Istio objects read through the Kubernetes API.

One interface (`Analyzer.analyze(snapshot) -> list[Finding]`), one result shape (`Finding`), one
analyzer per file (k8sgpt's layout), istioctl's codes and wording where Istio has a check
(`IST0101`...) and our own `ATL1xx` (mesh) / `ATL2xx` (workload) codes elsewhere (docs/analyzers.md).

    snap = fetch_snapshot(ctx.kubectl, log_requests=log_requests)   # or Snapshot.from_objects(dicts)
    findings = run_analyzers(snap, namespace="shop")
    print(render_text(findings, "shop"))

Agents call it as a command (`analyze -n shop`, `atlas-sre analyze --json`) when their runner was
given it (`CommandRunner(config, tools={TOOL_NAME: analyze_tool})`, as `environments.default_tools()`
does); the CLI uses `analyze_cli(kubeconfig, context, namespace, as_json)`.
"""

from atlas_sre.analyzers.base import Analyzer, Finding, Level, NeedsLogs, Resource, finding
from atlas_sre.analyzers.fetch import Kubectl, fetch_snapshot
from atlas_sre.analyzers.registry import (
    ANALYZERS,
    all_codes,
    analyzer_names,
    get_analyzers,
    log_requests,
    run_analyzers,
)
from atlas_sre.analyzers.report import FOUND_ISSUES_EXIT_CODE, exit_code, render_json, render_text
from atlas_sre.analyzers.snapshot import LogRequest, Snapshot
from atlas_sre.analyzers.tool import TOOL_NAME, analyze_cli, analyze_tool, parse_args

__all__ = [
    "ANALYZERS",
    "FOUND_ISSUES_EXIT_CODE",
    "TOOL_NAME",
    "Analyzer",
    "Finding",
    "Kubectl",
    "Level",
    "LogRequest",
    "NeedsLogs",
    "Resource",
    "Snapshot",
    "all_codes",
    "analyze_cli",
    "analyze_tool",
    "analyzer_names",
    "exit_code",
    "fetch_snapshot",
    "finding",
    "get_analyzers",
    "log_requests",
    "parse_args",
    "render_json",
    "render_text",
    "run_analyzers",
]

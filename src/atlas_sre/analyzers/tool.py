"""`analyze` as an agent command and as `atlas-sre analyze`: fetch through kubectl, run, render.

Why through the command layer: the tool receives a `ToolContext` whose `kubectl` is the same
policy-checked, kubeconfig-injected kubectl an agent's own commands use, so the analyzers can only
read, and they see exactly the cluster the agent sees (simulated or real). The CLI entry point
goes through `CommandRunner.run("analyze ...")`, the public path, with a large output budget.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from atlas_sre.analyzers.fetch import fetch_snapshot
from atlas_sre.analyzers.registry import analyzer_names, get_analyzers, log_requests, run_analyzers
from atlas_sre.analyzers.report import exit_code, render_json, render_text
from atlas_sre.commands import CommandConfig, CommandRunner, ToolContext

TOOL_NAME = "analyze"
USAGE_EXIT_CODE = 2
USAGE = (
    f"usage: {TOOL_NAME} [-n NAMESPACE | -A] [--json] [--analyzers NAME,...] [--no-logs]\n"
    "Runs the built-in analyzers (istioctl-analyze codes IST*, ours ATL*) over the cluster.\n"
    f"analyzers: {', '.join(analyzer_names())}\n"
)


@dataclass
class Options:
    namespace: str | None = None
    all_namespaces: bool = False
    as_json: bool = False
    analyzers: list[str] | None = None
    logs: bool = True
    help: bool = False


def parse_args(argv: Sequence[str]) -> Options:
    """Parse the words after `analyze`; ValueError carries a one-line reason."""
    opts, args = Options(), list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        value = None
        if "=" in arg and arg.startswith("--"):
            arg, value = arg.split("=", 1)
        if arg in ("-n", "--namespace", "--analyzers") and value is None:
            if i + 1 >= len(args):
                raise ValueError(f"{arg} needs a value")
            i += 1
            value = args[i]
        if arg in ("-n", "--namespace"):
            opts.namespace = value
        elif arg == "--analyzers":
            opts.analyzers = [n for n in str(value).split(",") if n]
        elif arg in ("-A", "--all-namespaces"):
            opts.all_namespaces = True
        elif arg == "--json" or (arg in ("-o", "--output") and i + 1 < len(args) and args[i + 1] == "json"):
            i += 1 if arg in ("-o", "--output") else 0
            opts.as_json = True
        elif arg == "--no-logs":
            opts.logs = False
        elif arg in ("-h", "--help"):
            opts.help = True
        else:
            raise ValueError(f"unknown argument {args[i]!r}")
        i += 1
    if opts.namespace and opts.all_namespaces:
        raise ValueError("-n and -A cannot be combined")
    return opts


def analyze_tool(argv: Sequence[str], ctx: ToolContext) -> tuple[int, str]:
    """The tool (passed to a runner as `tools={"analyze": analyze_tool}`): `argv[0]` is `analyze`; returns
    (exit code, report text)."""
    try:
        opts = parse_args(argv[1:])
        names = opts.analyzers
        get_analyzers(names)  # unknown names are a usage error, found before the cluster is read
    except ValueError as exc:
        return USAGE_EXIT_CODE, f"error: {exc}\n{USAGE}"
    if opts.help:
        return 0, USAGE
    namespace = None if opts.all_namespaces else (opts.namespace or ctx.config.namespace)
    snap = fetch_snapshot(ctx.kubectl, log_requests=(lambda s: log_requests(s, names)) if opts.logs else None)
    if not snap.objects and snap.errors:
        return 1, "error: cannot read the cluster: " + "; ".join(snap.errors) + "\n"
    findings = run_analyzers(snap, names, namespace)
    render = render_json if opts.as_json else render_text
    return exit_code(findings), render(findings, namespace, snap.errors)


def analyze_cli(
    kubeconfig: str | Path | None, context: str | None, namespace: str | None, as_json: bool
) -> int:
    """`atlas-sre analyze [--kubeconfig K] [--context C] [-n NS] [--json]`: print the report, return its code.

    Without `-n` every namespace is analyzed. Exit status: 0 clean or warnings only, 79 when an
    Error-level finding is present (istioctl's convention), 1 when the cluster cannot be read.
    """
    config = CommandConfig(
        kubeconfig=Path(kubeconfig) if kubeconfig else None,
        context=context,
        namespace=namespace,
        timeout_s=60,
        max_output_bytes=1 << 30,
        max_output_lines=1 << 24,
    )
    words = [TOOL_NAME, *(["-n", namespace] if namespace else ["-A"]), *(["--json"] if as_json else [])]
    with CommandRunner(config, tools={TOOL_NAME: analyze_tool}) as runner:
        result = runner.run(shlex.join(words))
    print(result.observation, end="")
    return result.exit_code

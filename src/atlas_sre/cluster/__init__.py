"""cluster room: what an agent may run against a cluster, and what it gets back.

One agent-written line goes through `check_command_line` (parse with shlex, never a shell;
read-only kubectl verbs, the registered in-process tools such as `analyze`, and in-process
filters after `|`), then `CommandRunner.run` executes it via a kubeconfig — simulated or real, the
code path is identical — with a timeout, secret redaction and head+tail truncation, and returns a
typed `CommandResult`. Refusals are results too (`refused=True`, a reason the agent can read).

    runner = CommandRunner(CommandConfig(kubeconfig=path, context="sim", namespace="shop"))
    result = runner.run("kubectl get pods -o wide | grep -v Running")
    result.observation, result.exit_code

The CLI calls `exec_command_line(line, config) -> (exit_code, text)` (exit code 3 = refused).
"""

from atlas_sre.cluster.config import CommandConfig
from atlas_sre.cluster.filters import FILTER_NAMES, parse_filter
from atlas_sre.cluster.jq import compile_jq
from atlas_sre.cluster.kubectl_policy import READ_VERBS, KubectlCommand, check_kubectl_args
from atlas_sre.cluster.output import truncate_output
from atlas_sre.cluster.policy import MAX_LINE_CHARS, Pipeline, Refusal, ToolCommand, check_command_line
from atlas_sre.cluster.redact import redact
from atlas_sre.cluster.runner import (
    REFUSED_EXIT_CODE,
    TIMEOUT_EXIT_CODE,
    CommandResult,
    CommandRunner,
    exec_command_line,
)
from atlas_sre.cluster.text import FilterUsageError
from atlas_sre.cluster.tools import Tool, ToolContext, register_tool, registered_tools, unregister_tool

__all__ = [
    "FILTER_NAMES",
    "MAX_LINE_CHARS",
    "READ_VERBS",
    "REFUSED_EXIT_CODE",
    "TIMEOUT_EXIT_CODE",
    "CommandConfig",
    "CommandResult",
    "CommandRunner",
    "FilterUsageError",
    "KubectlCommand",
    "Pipeline",
    "Refusal",
    "Tool",
    "ToolCommand",
    "ToolContext",
    "check_command_line",
    "check_kubectl_args",
    "compile_jq",
    "exec_command_line",
    "parse_filter",
    "redact",
    "register_tool",
    "registered_tools",
    "truncate_output",
    "unregister_tool",
]

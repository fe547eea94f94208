"""commands room: what an agent may run against a cluster, and what it gets back.

One agent-written line goes through `check_command_line` (parse with shlex, never a shell;
read-only kubectl verbs, the in-process tools it was given such as `analyze`, and in-process
filters after `|`), then `CommandRunner.run` executes it via a kubeconfig — simulated or real, the
code path is identical — with a timeout, secret redaction and head+tail truncation, and returns a
typed `CommandResult`. Refusals are results too (`refused=True`, a reason the agent can read).

    runner = CommandRunner(CommandConfig(kubeconfig=path, context="sim", namespace="shop"))
    result = runner.run("kubectl get pods -o wide | grep -v Running")
    result.observation, result.exit_code

The CLI calls `exec_command_line(line, config) -> (exit_code, text)` (exit code 3 = refused).
"""

from atlas_sre.commands.config import CommandConfig
from atlas_sre.commands.filters import FILTER_NAMES, parse_filter
from atlas_sre.commands.jq import compile_jq
from atlas_sre.commands.kubectl_policy import READ_VERBS, KubectlCommand, check_kubectl_args
from atlas_sre.commands.output import truncate_output
from atlas_sre.commands.policy import MAX_LINE_CHARS, Pipeline, Refusal, ToolCommand, check_command_line
from atlas_sre.commands.redact import redact
from atlas_sre.commands.runner import (
    REFUSED_EXIT_CODE,
    TIMEOUT_EXIT_CODE,
    CommandResult,
    CommandRunner,
    exec_command_line,
)
from atlas_sre.commands.text import FilterUsageError
from atlas_sre.commands.tools import Tool, ToolContext, check_tools

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
    "check_tools",
    "compile_jq",
    "exec_command_line",
    "parse_filter",
    "redact",
    "truncate_output",
]

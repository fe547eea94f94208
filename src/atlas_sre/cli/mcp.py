"""`atlas-sre mcp`: serve a scenario or a cluster to any MCP client (logic in `environments/mcp_server.py`).

Stdio by default (the client starts this command and talks over its stdin/stdout), streamable HTTP
with `--http PORT` (bound to 127.0.0.1 unless `--host` says otherwise). Progress and, on a
scenario, each submission's grade go to stderr: the operator's log, which MCP clients do not show
their model. Every user error is one line `error: ...` with exit code 2; a cluster, scenario server
or port that cannot be had exits 1.
"""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from typing import TYPE_CHECKING, TextIO

import typer

if TYPE_CHECKING:
    import socket

    from atlas_sre.environments import KubeconfigEnvironment
    from atlas_sre.grading import Diagnosis, Grade

USAGE_ERROR = 2
SERVE_ERROR = 1
DEFAULT_HOST = "127.0.0.1"


def _say(err: TextIO, message: str) -> None:
    err.write(f"atlas-sre mcp: {' '.join(message.split())}\n")
    err.flush()


def _error(err: TextIO, message: str, code: int) -> int:
    err.write(f"error: {' '.join(str(message).split())}\n")
    err.flush()
    return code


def _usage_problem(scenario: str | None, kubeconfig: str | None, context: str | None, namespace: str | None,
                   reveal_grade: bool, http: int | None, host: str | None) -> str | None:
    """The first contradiction in the options, as a one-line message, or None."""
    if bool(scenario) == bool(kubeconfig):
        return "give exactly one of --scenario NAME_OR_FILE or --kubeconfig PATH"
    if scenario and (context or namespace):
        return "--context and --namespace go with --kubeconfig; a scenario sets its own"
    if reveal_grade and not scenario:
        return "--reveal-grade needs --scenario (a real cluster has no ground truth to grade against)"
    if host is not None and http is None:
        return "--host needs --http PORT (stdio has no address)"
    if http is not None and not 0 <= http <= 65535:
        return f"--http must be a TCP port from 0 to 65535 (0: any free port), got {http}"
    return None


def mcp_cli(scenario: str | None = None, kubeconfig: str | None = None, context: str | None = None,
            namespace: str | None = None, reveal_grade: bool = False, http: int | None = None,
            host: str | None = None, *, err: TextIO | None = None) -> int:
    """Serve until the client disconnects (stdio) or a signal arrives; return the process exit code.

    The port is bound before the environment is opened, so a port in use fails in a moment, before
    a scenario is derived or a cluster is probed.
    """
    from atlas_sre.environments import ClusterUnavailable

    err = err or sys.stderr
    try:
        from atlas_sre.environments.mcp_server import bind, open_target
    except ImportError as exc:  # the `agents` extra is optional; mcp 1.x lacks the 2.x server API
        return _error(err, f"atlas-sre mcp needs the MCP Python SDK 2.x: pip install 'mcp>=2.3' ({exc})",
                      USAGE_ERROR)
    problem = _usage_problem(scenario, kubeconfig, context, namespace, reveal_grade, http, host)
    if problem:
        return _error(err, problem, USAGE_ERROR)
    host = host or DEFAULT_HOST
    sock = None
    if http is not None:
        try:
            sock = bind(host, http)
        except OSError as exc:
            return _error(err, f"cannot listen on {host}:{http}: {exc.strerror or exc}", SERVE_ERROR)
    try:
        env = open_target(scenario, kubeconfig, context, namespace)
    except (ClusterUnavailable, ValueError, OSError) as exc:  # unreachable cluster; unknown scenario, bad file
        if sock is not None:
            sock.close()
        return _error(err, str(exc), SERVE_ERROR if isinstance(exc, ClusterUnavailable) else USAGE_ERROR)
    with env, (sock if sock is not None else nullcontext()):
        target = (f"scenario {scenario} (namespace {env.namespace or 'default'})" if scenario
                  else f"cluster {kubeconfig}")
        ended = _serve(env, target, reveal_grade, sock, host, err)
    _say(err, ended)
    return 0


def _serve(env: KubeconfigEnvironment, target: str, reveal_grade: bool, sock: socket.socket | None, host: str,
           err: TextIO) -> str:
    """Serve `env`'s tools on stdio (no `sock`) or HTTP until the end; returns how it ended, for the log."""
    import anyio

    from atlas_sre.environments.mcp_server import LOOPBACK_HOSTS, build_server, serve_http, serve_stdio
    from atlas_sre.environments.mcp_tools import McpTools

    def on_submit(number: int, diagnosis: Diagnosis, graded: Grade) -> None:
        _say(err, f"diagnosis #{number}: correct={graded.correct} f1={graded.f1:.2f} "
                  f"root causes {', '.join(diagnosis.root_causes) or 'none'} (matched {graded.matched}, "
                  f"missed {graded.missed}, extra {graded.extra})")

    server = build_server(McpTools(env, reveal_grade=reveal_grade, on_submit=on_submit))
    config = env.runner.config.kubeconfig
    if sock is None:

        def stop_now() -> None:  # a signal: the SDK's stdin reader cannot be cancelled, so end here
            env.close()
            _say(err, "stopped on a signal")
            os._exit(0)

        _say(err, f"serving {target} over stdio; KUBECONFIG={config}")
        anyio.run(serve_stdio, server, stop_now)
        return "stopped: the client disconnected"
    bracketed = f"[{host}]" if ":" in host else host
    _say(err, f"serving {target} at http://{bracketed}:{sock.getsockname()[1]}/mcp; KUBECONFIG={config}")
    if host not in LOOPBACK_HOSTS:
        _say(err, f"warning: listening on {host} without authentication; anyone who can reach this port "
                  "can read the cluster")
    anyio.run(serve_http, server, sock, host)
    return "stopped"


def mcp(
    scenario: str | None = typer.Option(None, "--scenario", metavar="NAME_OR_FILE",
                                        help="Serve a scenario (built-in name or file) on the simulator."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", metavar="PATH",
                                          help="Serve a real cluster, read-only (no incident/submit tools)."),
    context: str | None = typer.Option(None, "--context", help="Kubeconfig context (with --kubeconfig)."),
    namespace: str | None = typer.Option(None, "-n", "--namespace", help="Default namespace (with --kubeconfig)."),
    reveal_grade: bool = typer.Option(False, "--reveal-grade", help="Return the grade in submit_diagnosis's result "
                                                                    "(default: only on stderr)."),
    http: int | None = typer.Option(None, "--http", metavar="PORT", help="Streamable HTTP on this port (path /mcp) "
                                                                         "instead of stdio."),
    host: str | None = typer.Option(None, "--host", help="Address for --http (default 127.0.0.1; there is no "
                                                         "authentication)."),
) -> None:
    """Serve kubectl, analyze (and a scenario's incident and submit_diagnosis) as an MCP server."""
    raise typer.Exit(mcp_cli(scenario, kubeconfig, context, namespace, reveal_grade, http, host))

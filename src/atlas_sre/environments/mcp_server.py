"""`atlas-sre mcp`: an environment's tools served to any MCP client (official `mcp` SDK 2.x, low-level `Server`).

Why the low-level `Server` rather than `MCPServer` (the SDK's FastMCP): the tool schemas are the
project's own contract (the diagnosis schema our agents get, verbatim) and errors are our one-line
texts, not signatures turned into schemas and pydantic reports. The tools themselves live in
`mcp_tools.McpTools`; this module opens the environment (`open_target`), wraps the tools in a
server, and runs it on stdio or streamable HTTP.

Lifetime: the environment (for a scenario, the simulator serving it on 127.0.0.1) lives exactly as
long as the server. Over stdio the server ends when the client closes stdin (it disconnected) or
sends SIGTERM/SIGINT; over HTTP, on SIGTERM/SIGINT (uvicorn's handlers). Either way the caller's
`with` closes the environment, which stops the simulator and removes its kubeconfig.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable, Mapping
from typing import Any

import anyio
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.types import CallToolRequestParams, CallToolResult, ListToolsResult, PaginatedRequestParams

from atlas_sre import __version__
from atlas_sre.environments.kubeconfig import KubeconfigEnvironment, open_kubeconfig
from atlas_sre.environments.mcp_tools import ANALYZE, INCIDENT, KUBECTL, SUBMIT, McpTools
from atlas_sre.environments.scenario import open_scenario
from atlas_sre.environments.tools import default_tools

SERVER_NAME = "atlas-sre"
HTTP_PATH = "/mcp"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

_SCENARIO_INSTRUCTIONS = (
    f"A Kubernetes incident to investigate read-only. Call `{INCIDENT}` first, then gather evidence with "
    f"`{KUBECTL}` (one read-only command line per call) and `{ANALYZE}`, and finish with one "
    f"`{SUBMIT}` naming the root-cause objects as namespace/Kind/name."
)
_CLUSTER_INSTRUCTIONS = (
    f"Read-only access to a Kubernetes cluster: `{KUBECTL}` runs one read-only command line per call, "
    f"`{ANALYZE}` runs the built-in mesh and workload analyzers. Writes are refused."
)


def open_target(scenario: str | None = None, kubeconfig: str | None = None, context: str | None = None,
                namespace: str | None = None) -> KubeconfigEnvironment:
    """The environment to serve: a scenario (built-in name or file) served by the simulator, or a cluster.

    Raises `ClusterUnavailable` (unreachable cluster, missing kubeconfig) or `ValueError` (unknown or
    invalid scenario), each with a one-line message.
    """
    if scenario:
        return open_scenario(scenario, tools=default_tools())
    return open_kubeconfig(kubeconfig, context, namespace, tools=default_tools())


def build_server(tools: McpTools) -> Server[Any]:
    """A low-level MCP server whose `tools/list` and `tools/call` are `tools`' (calls run in a worker thread)."""

    async def list_tools(ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None) -> ListToolsResult:
        return ListToolsResult(tools=tools.tools())

    async def call_tool(ctx: ServerRequestContext[Any], params: CallToolRequestParams) -> CallToolResult:
        arguments: Mapping[str, Any] | None = params.arguments
        return await anyio.to_thread.run_sync(tools.call, params.name, arguments)

    return Server(SERVER_NAME, version=__version__, title="atlas-sre read-only Kubernetes investigation",
                  instructions=_SCENARIO_INSTRUCTIONS if tools.scenario else _CLUSTER_INSTRUCTIONS,
                  on_list_tools=list_tools, on_call_tool=call_tool)


async def serve_stdio(server: Server[Any], on_signal: Callable[[], None] | None = None) -> None:
    """Serve over stdin/stdout until the client closes stdin (it disconnected) or a SIGTERM/SIGINT arrives.

    On a signal `on_signal` runs first: the SDK reads stdin in a worker thread that no cancellation
    can interrupt, so a client that signals while holding stdin open would otherwise leave this
    waiting; the CLI's `on_signal` stops the environment and ends the process.
    """
    async with anyio.create_task_group() as group:

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for _ in signals:
                    if on_signal is not None:
                        on_signal()
                    group.cancel_scope.cancel()
                    return

        group.start_soon(stop_on_signal)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
        group.cancel_scope.cancel()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); OSError (e.g. address in use) before anything else starts."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # reuse TIME_WAIT, never a live listener
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


async def serve_http(server: Server[Any], sock: socket.socket, host: str) -> None:
    """Serve streamable HTTP at `HTTP_PATH` on the bound `sock` until SIGTERM/SIGINT.

    `host` decides DNS-rebinding protection: the SDK turns it on for loopback hosts (Host and Origin
    headers must name the loopback), and there is no authentication, which is why the CLI binds
    127.0.0.1 unless told otherwise.
    """
    import uvicorn  # only the HTTP transport needs it

    app = server.streamable_http_app(streamable_http_path=HTTP_PATH, host=host)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    # uvicorn re-raises the signal that stopped it once it has shut down; with the default handlers
    # that kills the process before the caller can stop the simulator, so catch it here instead.
    stopping = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in stopping}
    try:
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

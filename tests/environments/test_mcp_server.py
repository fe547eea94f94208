"""`atlas-sre mcp` driven as a subprocess by the official MCP client over stdio (`mcp.client.stdio`).

One server per case, shared by the case's tests through a blocking portal (the async client lives
in the portal's event loop, the tests stay plain functions): with `--reveal-grade` it lists the
tools, runs real kubectl against the served scenario, has a mutation refused, runs the analyzer
and grades a diagnosis; without it, a diagnosis is acknowledged and no grade comes back, and when
the client disconnects the served scenario is stopped (port closed, kubeconfig removed).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import anyio
import pytest
import yaml
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client, ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent

from atlas_sre.cli.mcp import mcp_cli
from atlas_sre.environments import open_scenario

pytestmark = [pytest.mark.kubectl,
              pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")]

SCENARIO = "mesh-subset-missing"
# The answer written out by hand (tests never read a scenario's ground truth).
RIGHT = {"entities": [{"name": "shop/DestinationRule/reviews", "contributing_factor": True,
                       "reasoning": "VirtualService reviews routes to subset v3, which the DestinationRule lacks",
                       "evidence": "kubectl get destinationrule reviews -o yaml"}],
         "propagations": [{"source": "shop/DestinationRule/reviews", "target": "shop/Service/productpage",
                           "condition": "no cluster for subset v3", "effect": "503"}],
         "category": "Misconfiguration", "summary": "missing subset v3"}


@asynccontextmanager
async def _session(args: list[str], errlog: Any) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=sys.executable, args=["-m", "atlas_sre", "mcp", *args])
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@dataclass
class Served:
    """A running `atlas-sre mcp` and a synchronous way to call it."""

    portal: BlockingPortal
    session: ClientSession
    log: Path

    def call(self, name: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
        return self.portal.call(self.session.call_tool, name, arguments or {})


def text(result: CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))


@contextmanager
def serve(tmp: Path, *flags: str) -> Iterator[Served]:
    """`atlas-sre mcp --scenario SCENARIO FLAGS` over stdio, its stderr in `tmp/server.log`."""
    log = tmp / "server.log"
    with log.open("w") as errlog, start_blocking_portal() as portal, \
            portal.wrap_async_context_manager(_session(["--scenario", SCENARIO, *flags], errlog)) as session:
        yield Served(portal, session, log)


@pytest.fixture(scope="module")
def revealed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("mcp-revealed"), "--reveal-grade") as served:
        yield served


def test_lists_the_scenario_tools_with_the_diagnosis_schema(revealed: Served) -> None:
    tools = {t.name: t for t in revealed.portal.call(revealed.session.list_tools).tools}
    assert sorted(tools) == ["analyze", "incident", "kubectl", "submit_diagnosis"]
    assert tools["kubectl"].input_schema["required"] == ["command"]
    assert tools["kubectl"].annotations is not None and tools["kubectl"].annotations.read_only_hint
    entity = tools["submit_diagnosis"].input_schema["properties"]["entities"]["items"]
    assert "name" in entity["properties"] and "$ref" not in json.dumps(tools["submit_diagnosis"].input_schema)


def test_incident_is_the_briefing_without_ground_truth(revealed: Served) -> None:
    told = text(revealed.call("incident"))
    assert "HTTP 503" in told and "HighRequestErrorRate" in told and "default namespace is shop" in told
    assert "DestinationRule" not in told and "subset" not in told


def test_kubectl_reads_the_served_scenario(revealed: Served) -> None:
    result = revealed.call("kubectl", {"command": "kubectl get pods -A"})
    assert not result.is_error
    assert "NAMESPACE" in text(result) and re.search(r"productpage-v1-\S+\s+2/2\s+Running", text(result))
    bare = revealed.call("kubectl", {"command": "get destinationrule reviews -o yaml"})  # `kubectl` left out
    assert not bare.is_error and "kind: DestinationRule" in text(bare)


def test_a_mutation_is_refused_with_the_policy_text(revealed: Served) -> None:
    result = revealed.call("kubectl", {"command": "kubectl delete pod x"})
    assert result.is_error
    assert text(result).startswith("Refused by the read-only command policy:")
    assert text(result).rstrip().endswith("Run a read-only command instead.")
    missing = revealed.call("kubectl", {})
    assert missing.is_error and "needs a `command`" in text(missing)


def test_analyze_reports_the_missing_subset(revealed: Served) -> None:
    result = revealed.call("analyze", {"args": "-A"})
    assert not result.is_error and "IST0101" in text(result)


def test_a_submitted_diagnosis_is_graded(revealed: Served) -> None:
    result = revealed.call("submit_diagnosis", RIGHT)
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    grade = result.structured_content["grade"]
    assert grade["correct"] is True and grade["recall"] == 1.0
    assert "Grade:" in text(result)
    wrong = revealed.call("submit_diagnosis", {**RIGHT, "entities": ["shop/Deployment/ratings-v1"]})
    assert wrong.structured_content is not None and wrong.structured_content["grade"]["correct"] is False
    broken = revealed.call("submit_diagnosis", {"entities": [{"reasoning": "no name"}]})
    assert broken.is_error and text(broken).startswith("error: diagnosis not accepted:")


def test_without_reveal_grade_no_grade_returns_and_disconnect_stops_the_scenario(tmp_path: Path) -> None:
    with serve(tmp_path) as served:
        result = served.call("submit_diagnosis", RIGHT)
        assert not result.is_error
        assert "grade" not in (result.structured_content or {}) and "Grade" not in text(result)
        assert "received" in text(result) and "shop/DestinationRule/reviews" in text(result)
        kubeconfig = Path(re.findall(r"KUBECONFIG=(\S+)", served.log.read_text())[0])
        server = urlparse(yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"])
    log = served.log.read_text()
    assert "diagnosis #1: correct=True" in log  # the operator's log has the grade
    assert log.rstrip().endswith("atlas-sre mcp: stopped: the client disconnected")  # stdin EOF, not a kill
    assert not kubeconfig.exists()
    with pytest.raises(OSError):
        socket.create_connection((server.hostname, server.port), timeout=1).close()


def test_a_kubeconfig_cluster_gets_only_the_read_tools(tmp_path: Path) -> None:
    with open_scenario("crashloop-missing-env") as cluster:  # any cluster reachable through a kubeconfig
        args = ["--kubeconfig", str(cluster.runner.config.kubeconfig), "-n", "shop"]
        log = tmp_path / "server.log"
        with log.open("w") as errlog, start_blocking_portal() as portal, \
                portal.wrap_async_context_manager(_session(args, errlog)) as session:
            served = Served(portal, session, log)
            assert sorted(t.name for t in portal.call(session.list_tools).tools) == ["analyze", "kubectl"]
            assert "checkout" in text(served.call("kubectl", {"command": "kubectl get deploy"}))
            assert served.call("incident").is_error  # no incident without a scenario


def test_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    def run(**kwargs: Any) -> tuple[int, str]:
        err = io.StringIO()
        return mcp_cli(err=err, **kwargs), err.getvalue()

    for kwargs, code, message in [
        ({}, 2, "give exactly one of --scenario"),
        ({"scenario": "no-such-scenario"}, 2, "no such file or built-in scenario"),
        ({"kubeconfig": str(tmp_path / "missing")}, 1, "does not exist"),
        ({"kubeconfig": str(tmp_path / "missing"), "reveal_grade": True}, 2, "--reveal-grade needs --scenario"),
        ({"scenario": SCENARIO, "host": "0.0.0.0"}, 2, "--host needs --http"),
    ]:
        got, said = run(**kwargs)
        assert (got, said.count("\n")) == (code, 1) and said.startswith("error: ") and message in said, said
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        got, said = run(scenario=SCENARIO, http=taken.getsockname()[1])
    assert got == 1 and said.startswith("error: cannot listen on 127.0.0.1:") and said.count("\n") == 1


def test_streamable_http_on_the_loopback_until_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with log.open("w") as errlog:
        proc = subprocess.Popen([sys.executable, "-m", "atlas_sre", "mcp", "--scenario", SCENARIO, "--http", "0"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errlog)
        try:
            deadline = time.monotonic() + 30
            while not re.search(r"at (http://\S+/mcp)", log.read_text()) and time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.1)
            url = re.findall(r"at (http://\S+/mcp)", log.read_text())[0]
            assert url.startswith("http://127.0.0.1:")

            async def list_and_read() -> tuple[list[str], str]:
                async with Client(url) as client:
                    names = [t.name for t in (await client.list_tools()).tools]
                    return names, text(await client.call_tool("kubectl", {"command": "get pods -n shop"}))

            names, pods = anyio.run(list_and_read)
            assert "submit_diagnosis" in names and "productpage-v1" in pods
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) == 0
    assert log.read_text().rstrip().endswith("atlas-sre mcp: stopped")

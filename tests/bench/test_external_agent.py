"""`bench --agent 'cmd:…'`: an outside agent command, run against the served scenario and graded.

The agent is `fixtures/scripted_agent.py`: it runs real kubectl against the `KUBECONFIG` it is
given and prints free text (or, with `--json`, a fenced diagnosis), so these tests cover the whole
path: the template, the briefing as one argv element, the served cluster, extraction and grading.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from atlas_sre.cli.bench import bench_cli

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl missing")]

AGENT = Path(__file__).parent / "fixtures" / "scripted_agent.py"
PYTHON = shlex.quote(sys.executable)


def run(tmp: Path, agent: str, scenarios: str, **kw: Any) -> tuple[int, list[dict[str, Any]]]:
    code = bench_cli(scenarios=scenarios, agent=agent, out=str(tmp), workers=1, **kw)
    path = tmp / "results.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return code, records


def trace(tmp: Path, record: dict[str, Any]) -> dict[str, Any]:
    return json.loads((tmp / record["trace"]).read_text())


def test_free_text_answers_are_extracted_and_graded(tmp_path: Path) -> None:
    code, records = run(tmp_path, f"cmd:{PYTHON} {AGENT} {{incident}}", "mesh-subset-missing,image-not-found")
    assert code == 0
    assert sorted(r["scenario"] for r in records) == ["image-not-found", "mesh-subset-missing"]
    for r in records:
        assert r["mode"] == "student" and r["outcome"] == "submitted", r["message"]
        t = trace(tmp_path, r)
        assert t["answer_format"] == "text" and t["agent"]["exit_code"] == 0
        argv = t["agent"]["argv"]
        assert argv[-1].startswith(t["agent"]["stdout"].splitlines()[0].removeprefix("Incident: "))
        assert "Firing alerts:" in argv[-1] and len(argv) == 3  # the briefing is one argv element
        assert "Investigating:" in t["agent"]["stderr"]  # stderr is kept in the trace
        assert r["grade"]["correct"] and r["grade"]["precision"] == 1.0, (r["diagnosis"], t["agent"]["stdout"])
    by = {r["scenario"]: r for r in records}
    # what the agent could only have learnt from the served API: a generated pod name, resolved to its workload
    assert "ImagePullBackOff" in trace(tmp_path, by["image-not-found"])["agent"]["stdout"]
    blamed = [e["name"] for e in by["image-not-found"]["diagnosis"]["entities"] if e["contributing_factor"]]
    assert blamed == ["shop/Deployment/catalog"]
    subset = by["mesh-subset-missing"]["diagnosis"]["entities"]
    assert [e["name"] for e in subset if e["contributing_factor"]] == ["shop/DestinationRule/reviews"]
    assert "svc/details" in trace(tmp_path, by["mesh-subset-missing"])["agent"]["stdout"]  # dismissed, not blamed
    assert "shop/Service/details" not in [e["name"] for e in subset]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert list(summary["modes"]) == ["student"]


def test_json_answers_are_graded_as_is(tmp_path: Path) -> None:
    code, records = run(tmp_path, f"cmd:{PYTHON} {AGENT} --json {{incident}}", "mesh-subset-missing")
    assert code == 0 and len(records) == 1
    r = records[0]
    assert trace(tmp_path, r)["answer_format"] == "json"
    assert r["diagnosis"]["category"] == "Misconfiguration" and r["grade"]["correct"]


def test_a_slow_agent_is_cut_off_and_not_correct(tmp_path: Path) -> None:
    slow = f"cmd:{PYTHON} -c 'import time; print(\"deployment/checkout\", flush=True); time.sleep(60)' {{incident}}"
    code, records = run(tmp_path, slow, "crashloop-missing-env", agent_timeout=1.0)
    assert code == 0 and records[0]["outcome"] == "limits" and "timed out" in records[0]["message"]
    assert not records[0]["grade"]["correct"] and records[0]["wall_s"] < 10


def test_a_missing_command_is_an_error_episode_not_the_end_of_the_run(tmp_path: Path) -> None:
    code, records = run(tmp_path, "cmd:/nonexistent/agent {incident}", "crashloop-missing-env")
    assert code == 0 and records[0]["outcome"] == "error" and "nonexistent" in records[0]["message"]


@pytest.mark.parametrize(("agent", "modes", "says"), [
    ("holmes ask {incident}", None, "cmd:"),
    ("cmd:holmes ask", None, "{incident}"),
    ("cmd:holmes 'ask {incident}", None, "cannot be parsed"),
    ("cmd:holmes ask {incident}", "student,atlas", "only mode student"),
])
def test_bad_agent_options_are_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   agent: str, modes: str | None, says: str) -> None:
    assert bench_cli(scenarios="mesh-subset-missing", agent=agent, modes=modes, out=str(tmp_path)) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1 and not (tmp_path / "results.jsonl").exists()


def test_the_agent_is_part_of_the_run_identity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(tmp_path, f"cmd:{PYTHON} {AGENT} --json {{incident}}", "mesh-subset-missing")
    assert code == 0
    assert bench_cli(scenarios="mesh-subset-missing", agent=f"cmd:{PYTHON} {AGENT} {{incident}}",
                     out=str(tmp_path), workers=1) == 2
    assert "agent" in capsys.readouterr().err

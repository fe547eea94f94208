"""bench/peer: the HolmesGPT wrapper and the peer table, on a served scenario with real kubectl.

HolmesGPT is not a dependency, so `holmes` is stood in for by a script with its command line and its
output contract (set-up log on stdout, `--json-output-file` with the answer, tool calls and usage),
whose answer comes from `fixtures/scripted_agent.py` reading the served cluster with real kubectl.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from atlas_sre.cli.bench import bench_cli

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl missing")]

ROOT = Path(__file__).resolve().parents[2]
AGENT = Path(__file__).parent / "fixtures" / "scripted_agent.py"
SETUP_LOG = "✅ Toolset kubernetes/core\nToolset statuses are cached to /root/.holmes/toolsets_status.json"

HOLMES = f'''#!{sys.executable}
import json, subprocess, sys
args = sys.argv[1:]
assert args[0] == "ask" and "--no-interactive" in args and "--no-echo" in args
print({SETUP_LOG!r})
answer = subprocess.run([sys.executable, {str(AGENT)!r}, args[1]], capture_output=True, text=True, check=True).stdout
out = args[args.index("--json-output-file") + 1]
json.dump({{"result": answer, "num_llm_calls": 3, "prompt_tokens": 9000, "completion_tokens": 120,
           "tool_calls": [{{"tool_name": "kubectl_get_by_kind_in_cluster", "description": "kubectl get vs -A"}},
                          {{"tool_name": "kubectl_get_by_kind_in_cluster", "description": "kubectl get dr -A"}}]}},
          open(out, "w"))
'''


def _table() -> ModuleType:
    """bench/peer/table.py as a module (bench/ is scripts, not a package); its `_script` loads the wrapper."""
    spec = importlib.util.spec_from_file_location("peer_table", ROOT / "bench" / "peer" / "table.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_holmes_answers_are_graded_alone_and_joined_with_our_student(tmp_path: Path) -> None:
    holmes = tmp_path / "holmes"
    holmes.write_text(HOLMES)
    holmes.chmod(0o755)
    peer, ours = tmp_path / "peer", tmp_path / "ours"
    wrapper = ROOT / "bench" / "peer" / "holmes_agent.py"
    agent = (f"cmd:{shlex.quote(sys.executable)} {wrapper} --holmes {holmes} --model openai/m "
             f"--usage-dir {peer / 'usage'} {{incident}}")
    assert bench_cli(scenarios="mesh-subset-missing", agent=agent, out=str(peer / "mesh-subset-missing"),
                     workers=1) == 0
    assert bench_cli(scenarios="mesh-subset-missing", modes="student", out=str(ours / "mesh-subset-missing"),
                     workers=1) == 0
    (tmp_path / "ours-more").mkdir()  # a student-only folder that has not reached the incident

    record = json.loads((peer / "mesh-subset-missing" / "results.jsonl").read_text().splitlines()[0])
    trace = json.loads((peer / "mesh-subset-missing" / record["trace"]).read_text())
    assert "Toolset" not in trace["agent"]["stdout"] and "Toolset statuses" in trace["agent"]["stderr"]
    assert record["grade"]["correct"], trace["agent"]["stdout"]

    table = _table()
    [row] = table.rows(peer, [ours, tmp_path / "ours-more"])
    assert row["incident"] == "mesh-subset-missing" and row["holmes_correct"]
    assert (row["holmes_calls"], row["holmes_turns"], row["holmes_tokens"]) == (2, 3, 9120)
    assert row["holmes_answer"] == "shop/DestinationRule/reviews"
    assert row["ours_commands"] > 0 and row["ours_tokens"] > 0
    text = table.table("m", [row])
    assert "| HolmesGPT 0.45 (`holmes ask`) | m | 1 | 1 (100%) | 2.0 | 9,120 |" in text


def test_holmes_failing_is_an_error_not_an_answer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wrapper = _table()._script(ROOT / "bench" / "peer" / "holmes_agent.py")
    code = wrapper.main(["--holmes", shutil.which("false") or "false", "--model", "m", "--usage-dir",
                         str(tmp_path), "incident"])
    assert code == 1 and capsys.readouterr().out == "" and not list(tmp_path.iterdir())

"""HolmesGPT as an `atlas-sre bench --agent`: run `holmes ask`, print only its answer, keep its usage.

Why a wrapper and not HolmesGPT's command line as the template: `holmes ask` prints its toolset
set-up log on stdout before the answer, and the bench grades all of stdout. Its `--json-output-file`
carries the answer alone, the tool calls it made and the token usage its server reported, which the
bench cannot see (an outside agent's model is not ours). So this runs HolmesGPT with its own output
sent to stderr (kept in the bench trace), prints the answer from that file, and stores the calls and
usage in `--usage-dir`, one JSON per incident keyed by the briefing's SHA-256 (the bench's trace
records the briefing, so `table.py` joins the two without the agent ever seeing a scenario name).

    atlas-sre bench --scenarios X --agent-timeout 1800 --out runs/peer/holmes/X --agent \
      'cmd:python bench/peer/holmes_agent.py --holmes /root/holmes-venv/bin/holmes
       --model openai/qwen2.5-coder-1.5b --usage-dir runs/peer/usage {incident}'
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

QUESTION = "Investigate this incident and name the Kubernetes object that is the root cause: {incident}"


def usage_key(incident: str) -> str:
    """The file name a briefing's usage is kept under (also computed by table.py from the trace)."""
    return hashlib.sha256(incident.encode("utf-8")).hexdigest()[:16]


def summary(result: dict) -> dict:
    """What the peer table needs from HolmesGPT's LLMResult: calls, turns, tokens, how it ended."""
    calls = result.get("tool_calls") or []
    return {"tool_calls": [{"tool": c.get("tool_name"), "description": c.get("description")} for c in calls],
            "llm_calls": result.get("num_llm_calls"), "prompt_tokens": result.get("prompt_tokens", 0),
            "completion_tokens": result.get("completion_tokens", 0), "finish_reason": result.get("finish_reason"),
            "answer": result.get("result") or ""}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holmes", required=True, help="the holmes executable (the one inside its venv)")
    parser.add_argument("--model", required=True, help="HolmesGPT's --model, e.g. openai/qwen2.5-coder-1.5b")
    parser.add_argument("--usage-dir", required=True, type=Path, help="where each incident's calls and usage go")
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("incident", help="the incident briefing (the bench's {incident})")
    args = parser.parse_args(argv)
    args.usage_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "holmes.json"
        command = [args.holmes, "ask", QUESTION.format(incident=args.incident), "--model", args.model,
                   "--no-interactive", "--no-echo", "--max-steps", str(args.max_steps),
                   "--json-output-file", str(out)]
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, check=False)
        sys.stderr.write(done.stdout.decode("utf-8", errors="replace"))  # its log, kept in the bench trace
        code = done.returncode
        if code != 0 or not out.is_file():
            print(f"holmes_agent: holmes exited {code} without an answer file", file=sys.stderr)
            return code or 1
        result = json.loads(out.read_text(encoding="utf-8"))
    record = summary(result)
    (args.usage_dir / f"{usage_key(args.incident)}.json").write_text(json.dumps(record, indent=1) + "\n",
                                                                     encoding="utf-8")
    print(record["answer"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

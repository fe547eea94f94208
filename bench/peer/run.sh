#!/usr/bin/env bash
# The peer table (docs/results.md, "Peers"): HolmesGPT on the real-model subset (bench/realmodels/subset.txt),
# through bench/peer/holmes_agent.py, with the model that the real-model run used as our student, served by
# llama.cpp's `llama-server --jinja` (the recipe in docs/outside-agents.md) at $OPENAI_API_BASE.
# One bench folder per incident, in the subset's order; resumable: run it again.
#
#   OPENAI_API_BASE=http://127.0.0.1:8000/v1 OPENAI_API_KEY=none \
#     bench/peer/run.sh /root/holmes-venv/bin/holmes qwen2.5-coder-1.5b [runs]
#   python bench/peer/table.py runs/peer-1.5b runs/rm-1.5b
set -euo pipefail
cd "$(dirname "$0")/../.."
holmes=${1:?usage: bench/peer/run.sh HOLMES MODEL [RUNS_DIR]}
model=${2:?usage: bench/peer/run.sh HOLMES MODEL [RUNS_DIR]}
runs=${3:-runs}
: "${OPENAI_API_BASE:?set OPENAI_API_BASE to the model server (e.g. http://127.0.0.1:8000/v1)}"
out="$runs/peer-${model#qwen2.5-coder-}"
mkdir -p "$out"
for s in $(cat bench/realmodels/subset.txt); do
  echo "$(date +%T) holmes $model $s"
  .venv/bin/atlas-sre bench --scenarios "$s" --seed 0 --agent-timeout 1800 --out "$out/$s" --agent \
    "cmd:.venv/bin/python bench/peer/holmes_agent.py --holmes $holmes --model openai/$model --usage-dir $out/usage {incident}" \
    > /dev/null
done

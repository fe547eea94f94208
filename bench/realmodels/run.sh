#!/usr/bin/env bash
# The real-model table (docs/results.md, "Real models"): one model as the student, the reference teacher,
# the 12-incident subset in modes student, atlas and atlas+capsules, capsules learnt beforehand on the
# other library incidents. One bench folder per incident, mesh and Kubernetes incidents alternating, so a
# run stopped early still compares the three modes on the same incidents. Resumable: run it again.
#
#   bench/realmodels/run.sh qwen2.5-coder-1.5b [runs]      then: python bench/realmodels/table.py runs/rm-*
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:?usage: bench/realmodels/run.sh MODEL [RUNS_DIR]}
runs=${2:-runs}
A=.venv/bin/atlas-sre
library="$runs/capsule-library"
if [ ! -f "$library/summary.json" ]; then
  $A bench --scenarios "$(paste -sd, bench/realmodels/capsule-library.txt)" --modes atlas+capsules --seed 0 \
    --out "$library"
fi
mesh=$(head -6 bench/realmodels/subset.txt); kube=$(tail -6 bench/realmodels/subset.txt)
for s in $(paste -d'\n' <(echo "$mesh") <(echo "$kube")); do
  echo "$(date +%T) $model $s"
  $A bench --scenarios "$s" --modes student,atlas,atlas+capsules \
    --student "llamacpp:$model?n_ctx=8192" --tool-mode constrained --max-steps 8 --workers 1 --seed 0 \
    --capsules-from "$library/capsules/acap.sqlite" --out "$runs/rm-${model#qwen2.5-coder-}/$s" > /dev/null
done

#!/usr/bin/env bash
# Cross-check fairloop's quality algorithms against crowd-kit, krippendorff, statsmodels, scikit-learn and choix,
# then time Dawid-Skene (and GLAD, MACE) on 1,000,000 tasks x 3 labels against crowd-kit's Dawid-Skene.
#
#   bash bench/quality/run.sh            # everything
#   SKIP_BENCH=1 bash bench/quality/run.sh   # cross-check only
#   TASKS=100000 bash bench/quality/run.sh   # a smaller benchmark
#
# Uses the release binary `target/release/fairloop` when it builds; otherwise the crate's stand-in example
# (`cargo run --release -p fairloop-quality --example quality`), which has the same flags and output.
# Needs python3 with venv and network access to PyPI (not used by CI).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/bench/.venv"
WORK="${WORK:-$ROOT/bench/quality/work}"
TASKS="${TASKS:-1000000}"
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q crowd-kit krippendorff statsmodels scikit-learn choix
PY="$VENV/bin/python"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
if cargo build --release -p fairloop >/dev/null 2>&1; then
  OURS="$CARGO_TARGET_DIR/release/fairloop quality"
else
  echo "note: the fairloop binary does not build; using the fairloop-quality example instead" >&2
  cargo build --release -p fairloop-quality --example quality
  OURS="$CARGO_TARGET_DIR/release/examples/quality"
fi
echo "ours: $OURS"
"$PY" bench/quality/crosscheck.py check --ours "$OURS" --workdir "$WORK"

if [ -n "${SKIP_BENCH:-}" ]; then exit 0; fi

DATA="$WORK/labels_${TASKS}.csv"
if [ ! -f "$DATA" ]; then
  "$PY" bench/quality/crosscheck.py gen-labels --tasks "$TASKS" --workers 300 --classes 4 --overlap 3 --seed 7 \
    "$DATA" "$WORK/truth_${TASKS}.csv"
fi
echo "data: $DATA ($(($(wc -l < "$DATA") - 1)) labels)"

measure() { # name, command...
  local name="$1"; shift
  /usr/bin/time -v "$@" 2> "$WORK/time_$name.txt" > /dev/null
  local secs rss
  secs=$(grep "Elapsed (wall clock)" "$WORK/time_$name.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$WORK/time_$name.txt" | awk '{print $NF}')
  printf '%-32s wall %10s  max RSS %8.1f MB\n' "$name" "$secs" "$(echo "$rss/1024" | bc -l)"
}

for m in majority dawid-skene one-coin-dawid-skene glad mace; do
  measure "fairloop $m" $OURS aggregate --method "$m" --input "$DATA" --output "$WORK/ours_$m.csv"
done
measure "crowd-kit dawid-skene" "$PY" bench/quality/crosscheck.py crowdkit dawid-skene "$DATA" "$WORK/ck_ds.csv"
"$PY" - "$WORK" "$TASKS" <<'PY'
import sys, pandas as pd
wd, n = sys.argv[1], sys.argv[2]
gt = pd.read_csv(f"{wd}/truth_{n}.csv", index_col="task")["label"]
for name, f in [("fairloop majority", "ours_majority"), ("fairloop dawid-skene", "ours_dawid-skene"),
                ("fairloop one-coin", "ours_one-coin-dawid-skene"), ("fairloop glad", "ours_glad"),
                ("fairloop mace", "ours_mace"), ("crowd-kit dawid-skene", "ck_ds")]:
    s = pd.read_csv(f"{wd}/{f}.csv", index_col="task")["label"]
    print(f"{name:32s} accuracy {float((s.reindex(gt.index) == gt).mean()):.4%}")
PY

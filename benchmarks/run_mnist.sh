#!/usr/bin/env bash
# Reproduce the MNIST-halves numbers in docs/benchmarks.md. Run it alone on an idle machine:
# two CPU-heavy processes on a small machine slow each other 10-50x.
#   bash benchmarks/run_mnist.sh [DATA_DIR] [OUT_DIR]
# DATA_DIR holds mnist.npz (or the IDX files); default ../shared/data in the dev checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data}"
out="${2:-bench-out}"
mkdir -p "$out"

# 1. Every representation method, three seeds, the CorrNet paper's protocol (issues 4, 5, 6).
crossview benchmark mnist-halves --data-dir "$data" --no-download \
    --methods cca,kcca,dcca,dccae,mae,corrnet --seeds 3 --out "$out/mnist" --quiet

# 2. CorrNet's loss combinations (the paper's second table), one seed each.
crossview benchmark mnist-halves --data-dir "$data" --no-download \
    --methods corrnet --ablation --seeds 1 --out "$out/mnist-ablation" --quiet

# 3. Linear and kernel methods against scikit-learn's CCA, and cca-zoo's RidgeCCA and exact KCCA
#    (on 2,000 rows: its dense solver) when cca-zoo is importable (optional: pip install cca-zoo).
python benchmarks/bench_linear.py --data-dir "$data" --repeats 5 --zoo-kcca-n 2000 \
    --out "$out/linear.json"

# 4. crossview's DCCA against cca-zoo's (optional package) with the same architecture, in
#    float32 and in bfloat16 mixed precision.
python benchmarks/bench_deep_baselines.py --data-dir "$data" \
    --methods dcca-500-500-50,dcca-500-500-50-bf16,zoo-dcca,zoo-dcca-bf16 --epochs 40 \
    --seeds 0 \
    --out "$out/deep_baselines.json"

# 7. Label-linked mapping (docs/benchmarks.md section 7).
crossview benchmark label-linked mnist-unpaired --data-dir "$data" --no-download \
    --pairs 0,10,100,1000 --out "$out/label-linked-mnist-unpaired" --quiet
crossview benchmark label-linked digits-mnist --data-dir "$data" --no-download \
    --out "$out/label-linked-digits-mnist" --quiet
crossview benchmark label-linked semi-paired --data-dir "$data" --no-download \
    --fractions 0.01,0.1 --out "$out/label-linked-semi-paired" --quiet

# 8. Set clustering: SetClusterer, its ablations and the classify-then-cluster baselines on MNIST
#    instance sets, and the context-dependent synthetic sets (docs/benchmarks.md section 8).
crossview benchmark set-clustering mnist-instance-sets --data-dir "$data" --no-download \
    --out "$out/set-clustering-mnist-instance-sets" --quiet
crossview benchmark set-clustering context-sets --out "$out/set-clustering-context-sets" --quiet

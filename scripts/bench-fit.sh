#!/usr/bin/env bash
# `make bench-fit`: polybridge fit (exact combine, worker pool) versus R's lm, mclapply with
# averaged coefficients, and the multiprocessing + rpy2 recipe. BENCH_ROWS=2000000,10000000
# chooses the sizes (default 2,000,000 and 10,000,000); RPY2_MAX_ROWS limits the slow rpy2 recipe.
set -euo pipefail
cd "$(dirname "$0")/.."
POLYBRIDGE_BIN="${POLYBRIDGE_BIN:-.build/release/polybridge}"
"$POLYBRIDGE_BIN" bench dispatch
POLYBRIDGE_BIN="$POLYBRIDGE_BIN" python3 pyscripts/bench_fit.py

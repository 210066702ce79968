#!/usr/bin/env bash
# `make bench-glm`: polybridge fit --family binomial (exact IRLS over chunks on two warm workers)
# versus R's glm, Rscript (fread + glm + summary), mclapply with averaged coefficients and the
# multiprocessing + rpy2 recipe. BENCH_ROWS=2000000,10000000 chooses the sizes (the default);
# RSCRIPT_MAX_ROWS and RPY2_MAX_ROWS (default 2000000) limit the end-to-end and rpy2 runs.
set -euo pipefail
cd "$(dirname "$0")/.."
POLYBRIDGE_BIN="${POLYBRIDGE_BIN:-.build/release/polybridge}" python3 pyscripts/bench_glm.py

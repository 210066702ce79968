#!/usr/bin/env bash
# `make bench-grouped`: polybridge fit --by (one lm per group) versus lapply(split()), data.table's
# by, dplyr + broom and mclapply, on skewed groups in random order; then balanced groups against
# one group holding half the rows. BENCH_ROWS, BENCH_GROUPS and BENCH_FORMULA adjust it.
set -euo pipefail
cd "$(dirname "$0")/.."
POLYBRIDGE_BIN="${POLYBRIDGE_BIN:-.build/release/polybridge}" python3 pyscripts/bench_grouped.py

#!/usr/bin/env bash
# `make bench-fit-large`: an exact fit of 100,000,000 rows from a Parquet file the bench writes
# in streaming fashion, peak memory of coordinator plus workers, and R lm's memory need scaled
# from a measured 5,000,000-row run. BENCH_LARGE_ROWS, BENCH_LM_ROWS and BENCH_DIR adjust it.
set -euo pipefail
cd "$(dirname "$0")/.."
POLYBRIDGE_BIN="${POLYBRIDGE_BIN:-.build/release/polybridge}" python3 pyscripts/bench_fit_large.py

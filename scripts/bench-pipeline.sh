#!/usr/bin/env bash
# `make bench-pipeline`: the demo pipeline cold and warm, and the R -> Python -> R hand-off of a
# 1,000,000-row frame in memory versus through CSV and RDS files. BENCH_ROWS changes the size.
set -euo pipefail
cd "$(dirname "$0")/.."
POLYBRIDGE_BIN="${POLYBRIDGE_BIN:-.build/release/polybridge}" python3 pyscripts/bench_pipeline.py

#!/usr/bin/env bash
# `make bench-compare OLD=path`: the fit on two local workers, Ray and Dask with two polybridge
# binaries side by side in one run (BENCH_ROWS, default 2,000,000; BENCH_ROUNDS, default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD_BIN="$1" POLYBRIDGE_BIN="${POLYBRIDGE_BIN:-.build/release/polybridge}" python3 pyscripts/bench_compare.py

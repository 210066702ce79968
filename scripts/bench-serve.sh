#!/usr/bin/env bash
# `make bench-serve`: polybridge serve (an R object on workers, a saved fit in Swift) against
# plumber, with wrk at 1 and 4 connections, single-row and 1,000-row bodies. BENCH_SECONDS sets
# each wrk run's length.
set -euo pipefail
cd "$(dirname "$0")/.."
POLYBRIDGE_BIN="${POLYBRIDGE_BIN:-.build/release/polybridge}" python3 pyscripts/bench_serve.py

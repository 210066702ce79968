#!/usr/bin/env bash
# `make bench-engines`: the 10,000,000-row exact fit on the local pool, local Ray and local Dask.
set -euo pipefail
cd "$(dirname "$0")/.."
POLYBRIDGE_BIN="${POLYBRIDGE_BIN:-.build/release/polybridge}" python3 pyscripts/bench_engines.py

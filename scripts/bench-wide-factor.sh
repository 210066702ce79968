#!/usr/bin/env bash
# `make bench-wide-factor`: a 1,000-level factor fitted in chunks, in-process and on two
# workers, against R's lm on the same rows.
set -euo pipefail
cd "$(dirname "$0")/.."
POLYBRIDGE_BIN="${POLYBRIDGE_BIN:-.build/release/polybridge}" python3 pyscripts/bench_wide_factor.py

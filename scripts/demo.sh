#!/usr/bin/env bash
# The main job: both runtimes up in one process, then data moving between R and Python.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=".build/release/polybridge"
echo "== polybridge doctor"
"$bin" doctor
echo
echo "== R and Python in one process"
"$bin" demo

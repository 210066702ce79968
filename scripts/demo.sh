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
echo
echo "== Files: Parquet -> RDS (through R) -> Feather, then inspect"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" convert fixtures/files/all_types.parquet "$work/all_types.rds"
"$bin" convert "$work/all_types.rds" "$work/all_types.feather"
"$bin" inspect "$work/all_types.feather"
echo
echo "== A bad file gets a clear error and no output"
if "$bin" convert fixtures/files/truncated.parquet "$work/out.csv"; then
  echo "unexpected: the truncated file converted" >&2
  exit 1
fi
test ! -e "$work/out.csv" && echo "no partial output left behind"
echo
echo "== R's lm from a file: airquality in 4 chunks, merged exactly (equal to lm on all rows)"
"$bin" eval --r "saveRDS(airquality, '$work/airquality.rds')"
"$bin" convert "$work/airquality.rds" "$work/airquality.parquet"
"$bin" fit --data "$work/airquality.parquet" --formula "Ozone ~ Solar.R + Wind + Temp + factor(Month)" --chunks 4
echo
echo "== A mixed R/Python pipeline (examples/churn/pipeline.yaml): read CSV, clean in R, features in"
echo "   pandas, chunked lm, Python summary, R coefficient plot (PNG), Parquet out; cold, then cached"
rm -rf examples/churn/.polybridge-cache examples/churn/out
"$bin" run examples/churn/pipeline.yaml --graph "$work/churn.mmd"
"$bin" run examples/churn/pipeline.yaml
echo "outputs: $(ls examples/churn/out | tr '\n' ' ')"

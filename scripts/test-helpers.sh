#!/usr/bin/env bash
# The embedded Python and R helper scripts (Sources/*/Scripts) checked in their own languages,
# without building Swift: ruff over the Python (with pyscripts and Tests/python), pytest over
# Tests/python and testthat over Tests/R. All three always run; the exit status is non-zero
# when any fails.
set -uo pipefail
cd "$(dirname "$0")/.."

python="${POLYBRIDGE_PYTHON:-python3}"
status=0

echo "== test-helpers: ruff =="
"$python" -m ruff check Sources/*/Scripts/*.py pyscripts Tests/python
ruff_status=$?
[ "$ruff_status" -eq 0 ] || status=1

echo "== test-helpers: pytest Tests/python =="
"$python" -m pytest -q -p no:cacheprovider Tests/python
python_status=$?
[ "$python_status" -eq 0 ] || status=1

echo "== test-helpers: testthat Tests/R =="
POLYBRIDGE_ROOT="$PWD" Rscript -e 'testthat::test_dir("Tests/R", stop_on_failure = TRUE)'
r_status=$?
[ "$r_status" -eq 0 ] || status=1

echo "== test-helpers: ruff exit $ruff_status, pytest exit $python_status, testthat exit $r_status =="
exit "$status"

#!/usr/bin/env bash
# Unit tests of the embedded Python and R helper scripts (Sources/*/Scripts), in their own
# languages, without building Swift: pytest over Tests/python and testthat over Tests/R.
# Both always run; the exit status is non-zero when either fails.
set -uo pipefail
cd "$(dirname "$0")/.."

python="${POLYBRIDGE_PYTHON:-python3}"
status=0

echo "== test-helpers: pytest Tests/python =="
"$python" -m pytest -q -p no:cacheprovider Tests/python
python_status=$?
[ "$python_status" -eq 0 ] || status=1

echo "== test-helpers: testthat Tests/R =="
POLYBRIDGE_ROOT="$PWD" Rscript -e 'testthat::test_dir("Tests/R", stop_on_failure = TRUE)'
r_status=$?
[ "$r_status" -eq 0 ] || status=1

echo "== test-helpers: pytest exit $python_status, testthat exit $r_status =="
exit "$status"

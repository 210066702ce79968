#!/usr/bin/env bash
# Runs the test suite (already built) with Swift Testing's default parallelism. When it fails,
# the lines that name the failing tests and their recorded issues are printed again at the end,
# so that the tail of a long CI log says what failed.
set -uo pipefail
cd "$(dirname "$0")/.."

swift="${SWIFT:-swift}"
log="$(mktemp "${TMPDIR:-/tmp}/polybridge-test.XXXXXX.log")"
trap 'rm -f "$log"' EXIT

$swift test --skip-build "$@" 2>&1 | tee "$log"  # unquoted: SWIFT may carry words ("xcrun swift")
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo
  echo "== test: failed (exit $status); the failing tests and their issues =="
  # Swift Testing marks a failed test or suite with ✘ and each recorded issue with
  # "recorded an issue"; the indented lines after an issue are its details. Known issues (✘ is
  # not used for them) are left out. XCTest failures say "error:".
  grep -n -A12 -E '✘|recorded an issue|error:|Fatal error|Crash|signal [0-9]+' "$log" \
    | grep -v -E 'passed after|known issue' | tail -n 150
fi
exit "$status"

#!/usr/bin/env bash
# Runtime benchmarks: cold start of `polybridge doctor` (fresh process each run) and the
# round-trip latency of trivial R calls from Swift tasks (in-process), beside rpy2's.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=".build/release/polybridge"
runs="${RUNS:-15}"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m)"
echo "cold start of '$bin doctor' ($runs runs, fresh process each):"
python3 - "$bin" "$runs" <<'PY'
import statistics, subprocess, sys, time
binary, runs = sys.argv[1], int(sys.argv[2])
subprocess.run([binary, "doctor"], check=True, capture_output=True)  # warm the page cache
times = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run([binary, "doctor"], check=True, capture_output=True)
    times.append(time.perf_counter() - start)
print(f"  median {statistics.median(times):.3f} s   min {min(times):.3f} s   max {max(times):.3f} s   (goal < 0.5 s)")
PY
"$bin" bench runtime
# The same trivial call through rpy2 3.5 (its robjects and rinterface layers), in the same run.
python3 pyscripts/bench_rpy2_calls.py
echo "goal: a guarded call with a typed result at most 20 µs median, below rpy2's robjects call"

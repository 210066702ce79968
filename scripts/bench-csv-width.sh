#!/usr/bin/env bash
# Wide CSV benchmark (issue 17, item 13): seconds for `polybridge inspect`, `convert x.csv x.rds`
# and `fit` on CSV files of 100 rows and 5,000, 10,000 and 20,000 integer columns (WIDTHS, ROWS
# change them). Time grows linearly with the columns when nothing in the path is quadratic.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${POLYBRIDGE_BIN:-.build/release/polybridge}"
widths="${WIDTHS:-5000 10000 20000}"
rows="${ROWS:-100}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); binary $bin; $rows rows"
seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%7.2f s", b - a }'
}
for width in $widths; do
    csv="$out/wide-$width.csv"
    python3 - "$csv" "$width" "$rows" <<'PY'
import sys
path, width, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as handle:
    handle.write(",".join(f"c{j}" for j in range(width)) + "\n")
    for i in range(rows):
        handle.write(",".join(str((i * 7 + j) % 1000) for j in range(width)) + "\n")
PY
    printf '%6d columns: inspect %s   convert to RDS %s   fit c0 ~ c1 %s\n' "$width" \
        "$(seconds "$bin" inspect "$csv")" "$(seconds "$bin" convert "$csv" "$out/wide-$width.rds")" \
        "$(seconds "$bin" fit --data "$csv" --formula 'c0 ~ c1')"
done

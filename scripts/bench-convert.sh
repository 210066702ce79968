#!/usr/bin/env bash
# Conversion benchmark: pandas ↔ R data.frame through Polybridge versus rpy2 3.5 (pandas2ri and
# numpy2ri per numeric column) on the same frame (pyscripts/bench_rpy2_baseline.py: make_frame),
# then Polybridge alone at 10M rows. Prints times, ratios and peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${POLYBRIDGE_BIN:-.build/release/polybridge}"
rows="${ROWS:-1000000}"
big_rows="${BIG_ROWS:-10000000}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m)"
echo "frame: 8 float64 (1% nulls in x1), 1 int32, 1 string (4 values), 1 category (5 levels), 1 timestamp[UTC]"
"$bin" bench convert --rows "$rows" > "$out/polybridge.json"
python3 pyscripts/bench_rpy2_baseline.py --rows "$rows" > "$out/rpy2.json"
"$bin" bench convert --rows "$big_rows" --repeats 2 > "$out/polybridge-big.json"
python3 - "$out" <<'PY'
import json, sys
folder = sys.argv[1]
pb = json.load(open(f"{folder}/polybridge.json"))
rp = json.load(open(f"{folder}/rpy2.json"))
big = json.load(open(f"{folder}/polybridge-big.json"))
res = rp["results"]
mb = lambda b: f"{b / 1e6:8.1f} MB"
def row(label, seconds, peak=None, note=""):
    text = f"  {label:<44} {seconds:9.3f} s" if seconds is not None else f"  {label:<44} {'n/a':>11}"
    if peak is not None: text += f"   peak +{mb(peak)}"
    print(text + (f"   {note}" if note else ""))
def ratio(a, b):
    return f"{b / a:7.0f}x faster" if a and b else "n/a"
def seconds(mode):
    entry = res.get(mode) or {}
    return entry.get("seconds"), entry.get("peak_rss_increase_bytes"), entry.get("error"), entry.get("workaround")
print(f"\n{pb['rows']:,} rows, frame {pb['frame_bytes'] / 1e6:.1f} MB (pandas memory_usage deep); rpy2 {rp.get('rpy2_version')}, pandas {rp.get('pandas_version')}")
for direction, pb_key, rp_key, goal in [("pandas -> R data.frame", "pandas_to_r", "pandas2ri-to-r", 500), ("R data.frame -> pandas", "r_to_pandas", "pandas2ri-to-pandas", 200)]:
    print(f"{direction}:")
    mine = pb[pb_key]
    row("polybridge", mine["seconds"], mine["peak_rss_increase_bytes"], f"peak/frame {mine['peak_rss_increase_bytes'] / pb['frame_bytes']:.2f}")
    s, peak, error, workaround = seconds(rp_key)
    row("rpy2 pandas2ri", s, peak, (f"workaround: {workaround}" if workaround else "") + (f"error: {error}" if error else ""))
    print(f"  => polybridge {ratio(mine['seconds'], s)} (goal >= {goal}x)")
num = pb["numeric_pandas_to_r"]
print("numeric columns only (8 float64 + 1 int32):")
row("polybridge pandas -> R", num["seconds"], num["peak_rss_increase_bytes"], f"{pb['numeric_bytes'] / num['seconds'] / 1e9:.1f} GB/s effective (goal >= 5 GB/s, R's values never changed by pandas)")
for mode in ("numpy2ri-to-r", "numpy2ri-to-numpy"):
    s, peak, error, _ = seconds(mode)
    row(f"rpy2 {mode} (sum over columns)", s, peak, f"error: {error}" if error else "")
print(f"\npolybridge alone, {big['rows']:,} rows ({big['frame_bytes'] / 1e9:.2f} GB frame):")
for key, label in [("pandas_to_r", "pandas -> R"), ("r_to_pandas", "R -> pandas"), ("numeric_pandas_to_r", "numeric pandas -> R")]:
    m = big[key]
    row(label, m["seconds"], m["peak_rss_increase_bytes"], f"peak/frame {m['peak_rss_increase_bytes'] / big['frame_bytes']:.2f}")
if rp.get("correctness"):
    print("\nrpy2 correctness findings on a small frame:")
    for finding in rp["correctness"]: print("  - " + finding)
PY

"""Run `polybridge convert` on every corpus RDS file into every output format.

    python3 pyscripts/run_corpus_cli.py --binary .build/release/polybridge \\
        --corpus /tmp/corpus --outputs /tmp/corpus-out --results /tmp/results.jsonl

This is the fallback driver: one `BINARY convert IN OUT` process per (file, format), two at
a time, each with a time limit. A batch mode inside polybridge is meant to write the same
RESULTS.jsonl, which `check_corpus.py` reads.

RESULTS.jsonl format: one JSON object per line, one line per (input, format), sorted by
input then format:

    {"input": "/abs/corpus/001_x.rds",      # the file converted
     "output": "/abs/out/001_x.parquet",    # OUTDIR/<input stem>.<format>
     "format": "csv" | "feather" | "parquet" | "rds",
     "status": "ok" | "error" | "signal" | "timeout",
     "message": "..."}                      # error: the error text; ok: the summary line;
                                            # signal: the signal's name; timeout: the limit

"ok" is exit status 0, "error" any other exit status, "signal" a death by a signal
(negative return code), "timeout" a run killed after --timeout seconds. The driver also
adds "returncode" and "seconds"; readers must ignore keys they do not know.
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

FORMATS = ("csv", "feather", "parquet", "rds")
MESSAGE_LIMIT = 4000  # a runaway error message must not bloat the results file


def no_core_dumps():
    """Runs in the child before exec: a crashing conversion must not leave a core file."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_one(binary, input_path, output_path, fmt, timeout):
    """Converts one file and classifies how the process ended."""
    # A stale output from an earlier run would hide a conversion that wrote nothing.
    Path(output_path).unlink(missing_ok=True)
    started = time.monotonic()
    # Its own session, so a timeout can kill whatever the CLI started too.
    child = subprocess.Popen([binary, "convert", input_path, output_path],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True, preexec_fn=no_core_dumps)
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return result(input_path, output_path, fmt, "timeout",
                      f"no result after {timeout} s", None, started)
    code = child.returncode
    if code < 0:
        status, message = "signal", signal.Signals(-code).name
    elif code == 0:
        status, message = "ok", stdout.decode("utf-8", "replace").strip()
    else:
        status, message = "error", stderr.decode("utf-8", "replace").strip()
    return result(input_path, output_path, fmt, status, message, code, started)


def result(input_path, output_path, fmt, status, message, code, started):
    return {"input": input_path, "output": output_path, "format": fmt, "status": status,
            "message": message[:MESSAGE_LIMIT], "returncode": code,
            "seconds": round(time.monotonic() - started, 3)}


def jobs_for(corpus, outputs, formats):
    """Every (input, output, format) pair, in a stable order."""
    for rds in sorted(Path(corpus).glob("*.rds")):
        for fmt in formats:
            yield str(rds.resolve()), str((Path(outputs) / f"{rds.stem}.{fmt}").resolve()), fmt


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="the polybridge executable")
    parser.add_argument("--corpus", required=True, help="directory of NNN_name.rds files")
    parser.add_argument("--outputs", required=True, help="directory for the converted files")
    parser.add_argument("--results", required=True, help="RESULTS.jsonl to write")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated output formats")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per conversion")
    parser.add_argument("--workers", type=int, default=2, help="conversions at a time")
    args = parser.parse_args()

    Path(args.outputs).mkdir(parents=True, exist_ok=True)
    jobs = list(jobs_for(args.corpus, args.outputs, args.formats.split(",")))
    started = time.monotonic()
    results = []
    # Processes, not threads: each worker blocks in communicate() on its own child.
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(run_one, args.binary, *job, args.timeout) for job in jobs]
        for done, future in enumerate(futures, 1):
            results.append(future.result())
            if results[-1]["status"] in ("signal", "timeout"):
                print(f"  {results[-1]['status']}: {Path(results[-1]['input']).name} -> "
                      f"{results[-1]['format']} ({results[-1]['message']})", file=sys.stderr)
            if done % 100 == 0:
                print(f"{done}/{len(jobs)} conversions", file=sys.stderr)

    results.sort(key=lambda r: (r["input"], FORMATS.index(r["format"]) if r["format"] in FORMATS else 99))
    with open(args.results, "w", encoding="utf-8") as out:
        for row in results:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts = {}
    for row in results:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    print(f"{len(results)} conversions in {time.monotonic() - started:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()

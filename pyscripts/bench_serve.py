"""`make bench-serve`: `polybridge serve` against plumber, measured with wrk in the same run.

The model is `lm(mpg ~ wt + hp + factor(cyl), mtcars)`, served as an R object (predicted by R
on polybridge's warm workers), as a fit saved by `polybridge fit --save` (`mpg ~ wt + hp + cylf`,
cylf the cylinders as text: predicted in Swift), and by plumber (`pr_post("/predict", …)` with
jsonlite, one R process). Each is driven by wrk with 1 and 4 connections for BENCH_SECONDS
seconds (default 10), with single-row and 1,000-row JSON bodies, and (polybridge) 1,000-row
Arrow IPC stream bodies. The same wrk on `GET /v2/health/live` gives the server's ceiling on
this machine (an answer with no work). Then the resident memory of the server and its workers
before and after all of that is reported with the number of requests served in between, and
again over BENCH_MEMORY_REQUESTS (default 1,000,000; 0 skips it) single-row requests to the
saved fit.
"""
import json
import os
import re
import socket
import subprocess
import tempfile
import time

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
MEMORY_REQUESTS = int(os.environ.get("BENCH_MEMORY_REQUESTS", "1000000"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server ended with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not listen in time")


def seconds_of(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def wrk(url, body, connections, folder, content_type="application/json", seconds=None):
    """Requests/s, p50 and p99 latency (s), and requests made, from wrk posting `body` (text or
    bytes), or getting `url` when `body` is None."""
    script = []
    if body is not None:
        path, script = os.path.join(folder, "body"), os.path.join(folder, "post.lua")
        with open(path, "wb") as f:
            f.write(body.encode() if isinstance(body, str) else body)
        with open(script, "w") as f:
            f.write(f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "{content_type}"\n')
            f.write(f'local file = io.open("{path}", "rb")\nwrk.body = file:read("*all")\nfile:close()\n')
        script = ["-s", script]
    out = subprocess.run(["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds or SECONDS}s", "--latency",
                          *script, url], capture_output=True, text=True, check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise SystemExit(f"{url}: {bad.group(1)} requests failed\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = seconds_of(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = seconds_of(re.search(r"\s99%\s+(\S+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return rate, p50, p99, total


def arrow_body(records):
    """The records as an Arrow IPC stream."""
    import pyarrow as pa
    table = pa.Table.from_pylist(records)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def tree_rss(pid):
    """Resident memory (bytes) of `pid` and its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


def main():
    binary = os.environ.get("POLYBRIDGE_BIN", ".build/release/polybridge")
    with tempfile.TemporaryDirectory() as folder:
        rds, saved, data = (os.path.join(folder, name) for name in ("cars.rds", "saved.rds", "cars.rds.data.rds"))
        subprocess.run(["Rscript", "-e", f"saveRDS(lm(mpg ~ wt + hp + factor(cyl), data = mtcars), '{rds}'); "
                        f"d <- mtcars; d$cylf <- as.character(d$cyl); saveRDS(d, '{data}')"], check=True)
        parquet = os.path.join(folder, "cars.parquet")
        subprocess.run([binary, "convert", data, parquet], check=True, capture_output=True)
        subprocess.run([binary, "fit", "--data", parquet, "--formula", "mpg ~ wt + hp + cylf", "--save", saved], check=True, capture_output=True)
        one = [{"wt": 2.62, "hp": 110, "cyl": 6, "cylf": "6"}]
        many = [{"wt": 1.5 + (i % 37) / 10, "hp": 60 + i % 250, "cyl": [4, 6, 8][i % 3], "cylf": ["4", "6", "8"][i % 3]} for i in range(1000)]
        results = {}

        port = free_port()
        server = subprocess.Popen([binary, "serve", "--model", f"cars={rds}", "--model", f"native={saved}", "--workers", "2",
                                   "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port(port, server)
            base = f"http://127.0.0.1:{port}"
            # A warm-up of each workload (the workers' R heaps and the Arrow memory pool reach
            # their working size), then the memory before the measured runs.
            arrow = arrow_body(many)
            global SECONDS
            measured, SECONDS = SECONDS, 2
            for model in ("cars", "native"):
                for body, content_type in ((json.dumps(one), "application/json"), (json.dumps(many), "application/json"),
                                           (arrow, "application/vnd.apache.arrow.stream")):
                    wrk(f"{base}/v1/models/{model}/predict", body, 4, folder, content_type)
            SECONDS = measured
            ceiling = wrk(f"{base}/v2/health/live", None, 4, folder)
            before, served = tree_rss(server.pid), 0
            for label, model in (("polybridge, R object on workers", "cars"), ("polybridge, saved fit in Swift", "native")):
                url = f"{base}/v1/models/{model}/predict"
                for rows, body, kind in ((1, json.dumps(one), "json"), (1000, json.dumps(many), "json"), (1000, arrow, "arrow")):
                    for connections in (1, 4):
                        content_type = "application/json" if kind == "json" else "application/vnd.apache.arrow.stream"
                        rate, p50, p99, total = wrk(url, body, connections, folder, content_type)
                        results[(f"{label}{', Arrow' if kind == 'arrow' else ''}", rows, connections)] = (rate, p50, p99)
                        served += total
            after = tree_rss(server.pid)
            million = None
            if MEMORY_REQUESTS > 0:
                # Single-row requests to the saved fit until MEMORY_REQUESTS are served.
                start, count = tree_rss(server.pid), 0
                rate = results[("polybridge, saved fit in Swift", 1, 4)][0]
                while count < MEMORY_REQUESTS:
                    left = MEMORY_REQUESTS - count
                    count += wrk(f"{base}/v1/models/native/predict", json.dumps(one), 4, folder, seconds=max(2, min(120, int(left / rate) + 1)))[3]
                million = (start, tree_rss(server.pid), count)
        finally:
            server.terminate()
            server.wait(timeout=60)

        port = free_port()
        plumber = subprocess.Popen(["Rscript", "-e", f"""
            library(plumber); m <- readRDS('{rds}')
            pr() |> pr_post('/predict', function(req) list(predictions = unname(predict(m, jsonlite::fromJSON(req$postBody))))) |>
              pr_run(port = {port}, quiet = TRUE)
            """], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, plumber)
            for rows, body in ((1, json.dumps(one)), (1000, json.dumps(many))):
                for connections in (1, 4):
                    results[("plumber (one R process)", rows, connections)] = wrk(f"http://127.0.0.1:{port}/predict", body, connections, folder)[:3]
        finally:
            plumber.terminate()
            plumber.wait(timeout=60)

        print(f"machine: {os.cpu_count()} cores; wrk {SECONDS} s per line; lm(mpg ~ wt + hp + factor(cyl), mtcars)")
        print(f"  {'ceiling: GET /v2/health/live (no work)':<47} 4 conn: {ceiling[0]:9,.0f} req/s, p50 {ceiling[1] * 1e3:6.2f} ms, "
              f"p99 {ceiling[2] * 1e3:6.2f} ms")
        for (label, rows, connections), (rate, p50, p99) in results.items():
            extra = f", {rate * rows:,.0f} rows/s" if rows > 1 else ""
            print(f"  {label:<36} {rows:>5} row{'s' if rows > 1 else ' '} {connections} conn: {rate:9,.0f} req/s{extra}, "
                  f"p50 {p50 * 1e3:6.2f} ms, p99 {p99 * 1e3:6.2f} ms")
        plumber_rate = results[("plumber (one R process)", 1, 4)][0]
        r_object, native = results[("polybridge, R object on workers", 1, 4)], results[("polybridge, saved fit in Swift", 1, 4)]
        print(f"  R object, 4 connections: {r_object[0]:,.0f} req/s, p99 {r_object[2] * 1e3:.2f} ms, {r_object[0] / plumber_rate:.1f}x plumber "
              f"(goal >= 1,500 req/s, p99 <= 10 ms, >= 15x plumber)")
        print(f"  saved fit, 4 connections: {native[0]:,.0f} req/s, p99 {native[2] * 1e3:.2f} ms (goal >= 10,000 req/s, p99 <= 2 ms)")
        batch = results[("polybridge, saved fit in Swift", 1000, 4)][0] * 1000
        arrow = results[("polybridge, saved fit in Swift, Arrow", 1000, 4)][0] * 1000
        print(f"  1,000-row batches, saved fit, 4 connections: JSON {batch:,.0f} rows/s (goal >= 2M), Arrow {arrow:,.0f} rows/s (goal >= 20M; "
              f"that is {20e6 / 1000:,.0f} requests/s, against a ceiling of {ceiling[0]:,.0f} requests/s with no work at all)")
        print(f"  memory of the server and its workers after a 2-s warm-up of each workload: {before / 2**20:.0f} MB, then "
              f"{after / 2**20:.0f} MB after {served:,} requests "
              f"(+{(after - before) / 2**20:.1f} MB)")
        if million:
            print(f"  memory over {million[2]:,} single-row requests to the saved fit: {million[0] / 2**20:.0f} MB, then {million[1] / 2**20:.0f} MB "
                  f"(+{(million[1] - million[0]) / 2**20:.1f} MB; goal <= 20 MB over 1M requests)")


if __name__ == "__main__":
    main()

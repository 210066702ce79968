"""`make bench-wide-factor`: a chunked fit with a 1,000-level factor (about 1,000 coefficients, so
each chunk's factor is a 1,002 x 1,002 matrix) in this process and on two worker processes, with
R's lm on the same rows as the anchor, in one run. Prints seconds and ratios."""
import os
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("POLYBRIDGE_BIN", ".build/release/polybridge")
ROWS = int(os.environ.get("ROWS", "200000"))


def seconds(command):
    start = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def main():
    with tempfile.TemporaryDirectory(prefix="polybridge-bench-wide-") as work:
        rds, parquet = os.path.join(work, "d.rds"), os.path.join(work, "d.parquet")
        subprocess.run(["Rscript", "-e", f"set.seed(1); n <- {ROWS}; d <- data.frame(x = rnorm(n), "
                        "g = factor(sample(sprintf('L%04d', 1:1000), n, TRUE))); "
                        f"d$y <- d$x + as.integer(d$g) / 100 + rnorm(n); saveRDS(d, '{rds}')"], check=True)
        subprocess.run([BIN, "convert", rds, parquet], check=True, stdout=subprocess.DEVNULL)
        lm = seconds(["Rscript", "-e", f"d <- readRDS('{rds}'); invisible(summary(lm(y ~ x + g, d)))"])
        fit = [BIN, "fit", "--data", parquet, "--formula", "y ~ x + g", "--chunks", "4"]
        local = seconds(fit)
        workers = seconds(fit + ["--workers", "2"])
    print(f"machine: {os.cpu_count()} cores; {ROWS} rows, y ~ x + g with 1,000 levels, 4 chunks")
    print(f"R readRDS + lm + summary:  {lm:7.2f} s")
    print(f"polybridge fit in-process: {local:7.2f} s ({local / lm:.2f}x lm)")
    print(f"polybridge fit, 2 workers: {workers:7.2f} s ({workers / lm:.2f}x lm, {workers / local:.2f}x in-process)")


if __name__ == "__main__":
    sys.exit(main())

# The README's two commands are `make demo` and `make test`; both install what they need first.
SWIFT ?= swift
BUILD_FLAGS ?=

.PHONY: setup setup-engines setup-test build release demo test bench-runtime bench-convert bench-fit bench-fit-large bench-glm bench-glm-large bench-grouped bench-serve bench-pipeline bench-engines bench-compare bench-csv-width bench-wide-factor clean

setup:
	./scripts/setup.sh

# Ray and Dask for `--executor ray|dask`, only when asked (the tests ask: they run on both).
setup-engines: setup
	./scripts/setup.sh --engines

build: setup
	$(SWIFT) build $(BUILD_FLAGS)

release: setup
	$(SWIFT) build -c release $(BUILD_FLAGS)

# The main job: both runtimes up, then a round trip of data between R and Python.
demo: release
	./scripts/demo.sh

# The test tools: testthat, pytest and ruff.
setup-test: setup
	./scripts/setup.sh --test

# All tests: ruff, pytest and testthat on the Python and R helpers, then the Swift suite with
# Swift Testing's default parallelism (the engine tests need Ray and Dask).
test: setup setup-engines setup-test
	./scripts/test-helpers.sh
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	SWIFT="$(SWIFT)" ./scripts/test.sh $(BUILD_FLAGS)

# Start-up and call-latency benchmarks of the runtime layer.
bench-runtime: release
	./scripts/setup.sh --bench
	./scripts/bench-runtime.sh

clean:
	rm -rf .build

# pandas <-> R conversion versus rpy2 (installs rpy2==3.5.17 for the benchmark only).
bench-convert: release
	./scripts/setup.sh --bench
	./scripts/bench-convert.sh

# Chunked lm through the worker pool versus R's lm, mclapply averaging and the rpy2 recipe.
bench-fit: release
	./scripts/setup.sh --bench
	./scripts/bench-fit.sh

# 100,000,000 rows fitted exactly from a streamed Parquet file in under 4 GB (writes ~7.5 GB to a
# temporary directory; BENCH_DIR keeps the file between runs).
bench-fit-large: release
	./scripts/setup.sh --bench
	./scripts/bench-fit-large.sh

# Chunked glm (exact IRLS over chunks kept on two warm workers) versus R's glm, Rscript with
# fread, mclapply averaging and the rpy2 recipe; BENCH_ROWS chooses the sizes.
bench-glm: release
	./scripts/setup.sh --bench
	./scripts/bench-glm.sh

# A 100M-row logistic glm whose chunks keep their state on disk: peak memory (goal < 4 GiB)
# and an independent numpy IRLS over the same file.
bench-glm-large: release
	./scripts/setup.sh --bench
	./scripts/bench-glm-large.sh

# One lm per group (fit --by) versus lapply(split()), data.table by, dplyr + broom and mclapply.
bench-grouped: release
	./scripts/setup.sh --bench
	./scripts/bench-grouped.sh

# polybridge serve (an R object on workers, a saved fit in Swift) versus plumber, with wrk.
bench-serve: release
	./scripts/setup.sh --bench
	./scripts/bench-serve.sh

# The demo pipeline cold and warm, and the R -> Python -> R hand-off in memory versus files.
bench-pipeline: release
	./scripts/setup.sh --bench
	./scripts/bench-pipeline.sh

# inspect, convert to RDS and fit on CSV files of 5,000, 10,000 and 20,000 columns (WIDTHS, ROWS).
bench-csv-width: release
	./scripts/bench-csv-width.sh

# The 10,000,000-row fit on the local pool, local Ray and local Dask, in one run.
bench-engines: release setup-engines
	./scripts/bench-engines.sh

# Two binaries side by side (OLD=path/to/old/polybridge): the fit on two workers, Ray and Dask.
bench-compare: release setup-engines
	./scripts/bench-compare.sh "$(OLD)"

# A 1,000-level factor (about 1,000 coefficients) in chunks: in-process, on two workers, and R's lm.
bench-wide-factor: release
	./scripts/bench-wide-factor.sh

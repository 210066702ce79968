#!/usr/bin/env bash
# Installs what Polybridge needs on a fresh Debian machine, idempotently:
# R (r-base-dev) and reticulate from Debian, and the Python packages in requirements.txt
# for the interpreter Polybridge will embed (POLYBRIDGE_PYTHON, else python3 on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(r-base-dev r-cran-reticulate pkg-config)
# The benchmarks' baselines: data.table's fwrite/fread for the file-passing hand-off,
# data.table, dplyr and broom for the grouped fits' R ways, and plumber (with jsonlite) and wrk
# for serving.
[ "${1:-}" = "--bench" ] && debian_packages+=(r-cran-data.table r-cran-dplyr r-cran-broom r-cran-plumber r-cran-jsonlite wrk)
# The tests: testthat for the R helpers, the R classes the conversion tests round-trip, and
# curl, the HTTP client of the server's tests.
[ "${1:-}" = "--test" ] && debian_packages+=(r-cran-testthat r-cran-tibble r-cran-dplyr r-cran-data.table r-cran-broom curl)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${missing[@]}"
fi

python="${POLYBRIDGE_PYTHON:-python3}"
if ! "$python" -c "import pyarrow, pandas, numpy, polars" 2>/dev/null; then
  echo "setup: installing Python packages for $python"
  "$python" -m pip install -q -r requirements.txt
fi
if [ "${1:-}" = "--engines" ] && ! "$python" -c "import ray, distributed" 2>/dev/null; then
  echo "setup: installing the cluster engines (Ray, Dask) for $python"
  "$python" -m pip install -q -r requirements-engines.txt
fi
if [ "${1:-}" = "--test" ] && ! "$python" -c "import pytest, ruff" 2>/dev/null; then
  echo "setup: installing the test tools (pytest, ruff) for $python"
  "$python" -m pip install -q -r requirements-test.txt
fi
if [ "${1:-}" = "--bench" ] && ! "$python" -c "import rpy2, pyreadr" 2>/dev/null; then
  echo "setup: installing benchmark baselines (rpy2, pyreadr) for $python"
  "$python" -m pip install -q -r requirements-bench.txt
fi

"""Call latency of rpy2 3.5 in the same R, for `make bench-runtime`.

Prints the median and p90 of a trivial R call through rpy2's two layers, the way
`polybridge bench runtime` prints its own:
  - `robjects`: `r['identity'](1.0)[0]`, Python float in, R vector, Python float out;
  - `rinterface`: the low-level call on an already-made R vector (no conversion).
"""
import argparse
import time


def measure(label, body, calls):
    for _ in range(500):
        body()
    samples = []
    for _ in range(calls):
        start = time.perf_counter_ns()
        body()
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    print(f"  {label:<58} median {samples[len(samples) // 2]:6.1f} µs   p90 {samples[len(samples) * 9 // 10]:6.1f} µs")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    calls = parser.parse_args().calls
    import rpy2
    import rpy2.rinterface as ri
    import rpy2.robjects as ro
    identity = ro.r["identity"]
    low_level = ri.globalenv.find("identity")
    one = ri.FloatSexpVector([1.0])
    print(f"rpy2 {rpy2.__version__}, same R, {calls} calls each:")
    measure('robjects: r["identity"](1.0)[0] (converted result)', lambda: identity(1.0)[0], calls)
    measure("rinterface: identity(<R vector>) (no conversion)", lambda: low_level(one), calls)


if __name__ == "__main__":
    main()

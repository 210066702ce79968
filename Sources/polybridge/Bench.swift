import ArgumentParser
import Foundation
import Polybridge

/// `polybridge bench`: in-process benchmarks whose figures docs/benchmarks.md quotes.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run in-process benchmarks (used by `make bench-runtime` and `make bench-convert`).",
        subcommands: [RuntimeBench.self, ConvertBench.self, DispatchBench.self, HandoffBench.self])
}

/// Latency of trivial R calls made from Swift tasks.
struct RuntimeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runtime",
        abstract: "Median round-trip latency of trivial R calls from a Swift task.")

    @Option(help: "Calls per measurement.")
    var calls = 20_000

    func validate() throws { try OptionChecks.count(calls, "--calls") }

    func run() async throws {
        let r = try RRuntime.shared()
        _ = try PythonRuntime.shared()
        print("round trip of a trivial R call from a Swift task (\(calls) calls each, both runtimes up):")
        try await report("thread hop + R C API (withSession: make and read 1L)") {
            _ = try await r.withSession { session in try session.read(try session.make(.integer([1]))) }
        }
        try await report("r.call(\"identity\", 1) (guarded, warnings caught, typed)") {
            _ = try await r.call("identity", 1.0)
        }
        try await report("r.evaluate(\"1L\") (parse + eval + typed result)") {
            _ = try await r.evaluate("1L")
        }
    }

    private func report(_ label: String, _ body: () async throws -> Void) async throws {
        for _ in 0..<500 { try await body() }
        var samples: [Double] = []
        samples.reserveCapacity(calls)
        for _ in 0..<calls {
            let start = ContinuousClock.now
            try await body()
            samples.append((ContinuousClock.now - start).seconds * 1e6)
        }
        samples.sort()
        let median = samples[samples.count / 2], p90 = samples[samples.count * 9 / 10]
        print(String(format: "  %-58@ median %6.1f µs   p90 %6.1f µs", label as NSString, median, p90))
    }
}

/// The worker pool's own cost per chunk: a request and its answer through a warm worker, with
/// no R or file work in between.
struct DispatchBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dispatch",
        abstract: "Per-chunk dispatch overhead of the worker pool (request out, answer back, warm workers).")

    @Option(help: "Round trips per worker.")
    var rounds = 2_000

    @Option(help: "Worker processes.")
    var workers = 2

    func validate() throws {
        try OptionChecks.count(rounds, "--rounds")
        try OptionChecks.count(workers, "--workers")
    }

    func run() async throws {
        let pool = ProcessPoolExecutor(executable: CurrentExecutable.url, workers: workers)
        defer { pool.shutdown() }
        try await pool.warmUp()
        for _ in 0..<100 { try await pool.warmUp() }
        let start = ContinuousClock.now
        for _ in 0..<rounds { try await pool.warmUp() }
        let seconds = (ContinuousClock.now - start).seconds
        let perChunk = seconds / Double(rounds * workers) * 1e3
        print(String(format: "dispatch: %d chunks' round trips on %d warm workers in %.3f s: %.3f ms per chunk, %.3f ms per round of %d in parallel (goal < 1 ms per chunk)",
                     rounds * workers, workers, seconds, perChunk, seconds / Double(rounds) * 1e3, workers))
    }
}

/// The pipeline hand-off: a data frame from an R step to a Python step (pandas) and back, with
/// both conversions, as `polybridge run` does it between steps (best of several runs).
struct HandoffBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "handoff",
        abstract: "Time handing a data frame from an R step to a Python step and back (JSON on stdout).")

    @Option(help: "Rows of the frame.")
    var rows = 1_000_000

    @Option(help: "Runs; the best is reported.")
    var repeats = 5

    func validate() throws {
        try OptionChecks.count(rows, "--rows")
        try OptionChecks.count(repeats, "--repeats")
    }

    @Flag(help: "Add a Date column (pandas holds dates as Python date objects, which costs most of the time).")
    var withDate = false

    @Flag(help: "Give pandas pyarrow-backed columns (a pipeline step's `as: pandas-arrow`) instead of nullable dtypes.")
    var arrowDtypes = false

    func run() async throws {
        let r = try RRuntime.shared()
        let python = try PythonRuntime.shared()
        _ = try await r.evaluate("""
            set.seed(1); n <- \(rows)
            handoff_frame <- data.frame(a = rnorm(n), b = rnorm(n), c = rnorm(n), d = rnorm(n), e = runif(n), f = runif(n),
                                        i = sample.int(1000L, n, TRUE), j = seq_len(n), flag = sample(c(TRUE, FALSE, NA), n, TRUE),
                                        g = factor(sample(c("basic", "pro", "team", "trial", "legacy"), n, TRUE)),
                                        day = as.Date("2020-01-01") + sample.int(1500L, n, TRUE))
            if (!\(withDate ? "TRUE" : "FALSE")) handoff_frame$day <- NULL
            handoff_frame$a[sample.int(n, n %/% 100)] <- NA
            """)
        var toPython = Double.infinity, toR = Double.infinity
        var phases = [Double](repeating: .infinity, count: 4)
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            // R step output → Arrow → the Python step's pandas frame.
            let table = try await r.withSession { session in
                try session.arrowTable(fromDataFrame: try session.evaluateText("handoff_frame", purpose: "handoff"))
            }
            let converted = ContinuousClock.now
            let frame = try python.pandasDataFrame(from: table, dtypes: arrowDtypes ? .arrow : .nullable)
            let middle = ContinuousClock.now
            // The Python step's result → Arrow → the next R step's data frame.
            let back = try python.arrowTable(from: frame)
            let imported = ContinuousClock.now
            phases[0] = min(phases[0], (converted - start).seconds)
            phases[1] = min(phases[1], (middle - converted).seconds)
            phases[2] = min(phases[2], (imported - middle).seconds)
            try await r.withSession { session in
                let converted = try session.dataFrame(from: back)
                _ = try session.evaluate(try session.lang(try session.symbol("assign"), [
                    try session.makeStrings(["handoff_back"]), converted, session.globalEnvironment]), purpose: "handoff")
            }
            let end = ContinuousClock.now
            toPython = min(toPython, (middle - start).seconds)
            toR = min(toR, (end - middle).seconds)
            phases[3] = min(phases[3], (end - imported).seconds)
        }
        let same = try await r.eval("isTRUE(all.equal(handoff_back, handoff_frame, check.attributes = FALSE))", as: Bool.self)
        let report: [String: Any] = ["rows": rows, "columns": "6 double (1% NA), 2 integer, logical with NA, 5-level factor" + (withDate ? ", Date" : ""),
                                     "pandas_dtypes": arrowDtypes ? "arrow" : "nullable",
                                     "r_to_pandas_seconds": toPython, "pandas_to_r_seconds": toR,
                                     "both_seconds": toPython + toR, "round_trip_equal": same,
                                     "phases_seconds": ["r_to_arrow": phases[0], "arrow_to_pandas": phases[1],
                                                        "pandas_to_arrow": phases[2], "arrow_to_r": phases[3]]]
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }
}

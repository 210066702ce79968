import ArgumentParser
import Foundation
import Polybridge

/// Times pandas → R and R → pandas through Polybridge on the benchmark frame; prints JSON.
struct ConvertBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "convert",
        abstract: "Time pandas → R data.frame and back on the benchmark frame (JSON on stdout).")

    @Option(help: "Rows in the benchmark frame.")
    var rows = 1_000_000

    @Option(help: "Runs per direction; the best is reported.")
    var repeats = 3

    func validate() throws {
        try OptionChecks.count(rows, "--rows")
        try OptionChecks.count(repeats, "--repeats")
    }

    func run() async throws {
        let python = try PythonRuntime.shared()
        let r = try RRuntime.shared()
        // The same frame the rpy2 baseline converts (pyscripts/bench_rpy2_baseline.py: make_frame).
        try python.exec("""
            import sys, os
            sys.path.insert(0, os.path.join(os.getcwd(), 'pyscripts'))
            from bench_rpy2_baseline import make_frame
            bench_frame = make_frame(\(rows))
            bench_bytes = int(bench_frame.memory_usage(deep=True).sum())
            bench_numeric_bytes = int(sum(bench_frame[c].to_numpy().nbytes for c in ['x1','x2','x3','x4','x5','x6','x7','x8','n']))
            """)
        let frame = try python.evaluateObject("bench_frame")
        let frameBytes = try python.eval("bench_bytes", as: Int.self)
        let numericBytes = try python.eval("bench_numeric_bytes", as: Int.self)

        var toR = Measurement(), toPandas = Measurement()
        for _ in 0..<repeats {
            toR.record(try await measure { try await Bridge.assignToR(python: frame, as: "bench_frame") })
        }
        let rowsInR = try await r.eval("nrow(bench_frame)", as: Int.self)
        for _ in 0..<repeats {
            toPandas.record(try await measure {
                let back = try await Bridge.pandas(fromR: "bench_frame")
                _ = back
            })
        }
        // Where R → pandas spends its time: R → Arrow on the R thread, Arrow → pyarrow, pyarrow → pandas.
        var rToArrow = Measurement(), arrowToPyarrow = Measurement(), pyarrowToPandas = Measurement()
        // The same pyarrow → pandas step Bridge.pandas runs (its helper module is loaded by now).
        let pyarrowToNullablePandas = try python.evaluateObject("lambda t: __import__('_polybridge_arrow').pandas_from_table(t, 'nullable')")
        for _ in 0..<repeats {
            var table: ArrowTable? = nil
            rToArrow.record(try await measure { table = try await Bridge.table(fromR: "bench_frame") })
            var pyTable: PythonObject? = nil
            arrowToPyarrow.record(try await measure { pyTable = try Bridge.pyarrow(from: table!) })
            pyarrowToPandas.record(try await measure { _ = try python.call(pyarrowToNullablePandas, [pyTable!]) })
        }
        // Numeric-only: the 9 numeric columns as Arrow → R (zero-copy where there are no nulls).
        var numericToR = Measurement()
        try python.exec("bench_numeric = bench_frame[['x1','x2','x3','x4','x5','x6','x7','x8','n']]")
        let numeric = try python.evaluateObject("bench_numeric")
        for _ in 0..<repeats {
            numericToR.record(try await measure { try await Bridge.assignToR(python: numeric, as: "bench_numeric") })
        }
        // Where numeric pandas → R spends its time: pandas → Arrow (pyarrow's export), Arrow → R.
        var numericToArrow = Measurement(), numericArrowToR = Measurement()
        for _ in 0..<repeats {
            var table: ArrowTable? = nil
            numericToArrow.record(try await measure { table = try Bridge.table(fromPython: numeric) })
            numericArrowToR.record(try await measure { try await Bridge.assignToR(table!, as: "bench_numeric") })
        }
        let report: [String: Any] = [
            "rows": rows, "rows_in_r": rowsInR, "frame_bytes": frameBytes, "numeric_bytes": numericBytes,
            "pandas_to_r": toR.json, "r_to_pandas": toPandas.json, "numeric_pandas_to_r": numericToR.json,
            "r_to_pandas_phases": ["r_to_arrow": rToArrow.json, "arrow_to_pyarrow": arrowToPyarrow.json,
                                   "pyarrow_to_pandas": pyarrowToPandas.json],
            "numeric_pandas_to_r_phases": ["pandas_to_arrow": numericToArrow.json, "arrow_to_r": numericArrowToR.json],
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }

    /// Wall time and peak resident growth of one conversion (peak reset through /proc/self/clear_refs).
    private func measure(_ body: () async throws -> Void) async throws -> (seconds: Double, peakBytes: Int) {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let before = procStatusKilobytes("VmRSS")
        let start = ContinuousClock.now
        try await body()
        let seconds = (ContinuousClock.now - start).seconds
        return (seconds, max(0, procStatusKilobytes("VmHWM") - before) * 1024)
    }
}

/// Best time and largest peak over several runs.
struct Measurement {
    var best = Double.infinity
    var peakBytes = 0

    mutating func record(_ sample: (seconds: Double, peakBytes: Int)) {
        best = min(best, sample.seconds)
        peakBytes = max(peakBytes, sample.peakBytes)
    }

    var json: [String: Any] { ["seconds": best, "peak_rss_increase_bytes": peakBytes] }
}

/// A `kB` field of /proc/self/status (VmRSS, VmHWM, ...).
func procStatusKilobytes(_ field: String) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
    return 0
}

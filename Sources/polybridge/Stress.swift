import ArgumentParser
import Foundation
import Polybridge

/// `polybridge stress`: loops that must not leak, run in their own process so resident memory
/// reflects only the loop (used by the leak tests).
struct Stress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Leak checks: R errors or conversion round trips in a loop, resident memory as JSON.",
        shouldDisplay: false,
        subcommands: [StressErrors.self, StressConversion.self, StressUnguardedError.self, StressCorpus.self],
        defaultSubcommand: StressErrors.self)
}

/// `polybridge stress errors`: raises R errors in a loop and reports memory.
struct StressErrors: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "errors",
        abstract: "Raise many R errors through the bridge and report resident memory (JSON).")

    @Option(help: "Rounds; each raises one R error in an evaluation and one in a session job.")
    var count = 10_000

    func validate() throws { try OptionChecks.count(count, "--count") }

    func run() async throws {
        let r = try RRuntime.shared()
        let cases: [(code: String, expected: String)] = [
            ("stop('failure number 7')", "failure number 7"),
            ("1 +* 2", "unexpected '*'"),
            ("as.numeric(list(1, 2:3))", "object cannot be coerced to type 'double'"),
        ]
        // Session jobs (the conversions' path) fail differently: R's message comes from its error buffer.
        let sessionCases: [(code: String, expected: String)] = [
            ("stop('failure number 7')", "failure number 7"),
            ("1 +* 2", "did not parse"),
            ("as.numeric(list(1, 2:3))", "cannot be coerced to type 'double'"),
        ]
        var caught = 0, wrongMessages: [String] = []
        func note(_ error: any Error, expected: String) {
            if let error = error as? RError {
                caught += 1
                if !error.conditionMessage.contains(expected), wrongMessages.count < 5 {
                    wrongMessages.append(error.conditionMessage)
                }
            } else if wrongMessages.count < 5 {
                wrongMessages.append("\(error)")
            }
        }
        // Each round raises one error in an evaluation job and one in a session job.
        func once(_ index: Int) async {
            let (code, expected) = cases[index % cases.count]
            do { _ = try await r.evaluate(code) } catch { note(error, expected: expected) }
            let (sessionCode, sessionExpected) = sessionCases[index % sessionCases.count]
            do { _ = try await Bridge.table(fromR: sessionCode) } catch { note(error, expected: sessionExpected) }
        }
        for index in 0..<1_000 { await once(index) }  // warm up R's and malloc's pools
        caught = 0
        let before = residentKilobytes()
        for index in 0..<count { await once(index) }
        let after = residentKilobytes()
        let report: [String: Any] = ["count": count, "caught": caught, "rssBeforeKB": before,
                                     "rssAfterKB": after, "wrongMessages": wrongMessages]
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }
}

/// `polybridge stress unguarded-error`: raises an R error outside every guard, to show that the
/// last line of defence reports it (R's message, an internal-error line, exit status 70).
struct StressUnguardedError: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unguarded-error",
        abstract: "Raise an R error outside Polybridge's guards (the process must report it and exit 70).")

    func run() async throws {
        try RRuntime.shared().raiseUnguardedErrorForTesting("deliberately unguarded R error")
        print("unreachable: the process should have exited")
    }
}

/// `polybridge stress conversion`: pandas → R data.frame → pandas round trips of a frame with
/// every type and nulls, each checked against the original, with resident memory before and after.
struct StressConversion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "conversion",
        abstract: "Round-trip a pandas frame through R many times and report resident memory (JSON).")

    @Option(help: "Number of round trips.")
    var count = 1_000

    @Option(help: "Rows in the frame.")
    var rows = 10_000

    func validate() throws {
        try OptionChecks.count(count, "--count")
        try OptionChecks.count(rows, "--rows")
    }

    func run() async throws {
        let python = try PythonRuntime.shared()
        let r = try RRuntime.shared()
        try python.exec("""
            import gc
            import numpy as np, pandas as pd, pyarrow as pa
            _rng = np.random.default_rng(7)
            _n = \(rows)
            _nulls = _rng.random(_n) < 0.05
            stress_table = pa.table({
                'dbl': pa.array(_rng.normal(size=_n), mask=_nulls),
                'int': pa.array(_rng.integers(-1000, 1000, _n, dtype=np.int32), mask=_nulls),
                'lgl': pa.array(_rng.random(_n) < 0.5, mask=_nulls),
                'chr': pa.array([f'value {i % 97} é' for i in range(_n)], mask=_nulls),
                'cat': pa.array([['lo', 'mid', 'hi'][i % 3] for i in range(_n)], mask=_nulls).dictionary_encode(),
                'day': pa.array(_rng.integers(-20000, 20000, _n, dtype=np.int32), mask=_nulls).cast(pa.date32()),
                'ts': pa.array(_rng.integers(0, 2**50, _n), mask=_nulls).cast(pa.timestamp('us', tz='America/New_York')),
            })
            stress_frame = stress_table.to_pandas(types_mapper={pa.int32(): pd.Int32Dtype(), pa.bool_(): pd.BooleanDtype()}.get)
            stress_expected = pa.Table.from_pandas(stress_frame, preserve_index=False)
            def stress_same(back):
                return pa.Table.from_pandas(back, preserve_index=False).equals(stress_expected)
            """)
        let frame = try python.evaluateObject("stress_frame")
        let same = try python.evaluateObject("stress_same")
        var mismatches = 0
        func roundTrip() async throws {
            try await Bridge.assignToR(python: frame, as: "stress_frame")
            let back = try await Bridge.pandas(fromR: "stress_frame")
            if case .bool(false) = try python.value(of: try python.call(same, [back])) { mismatches += 1 }
        }
        func settle() async throws {
            _ = try await r.evaluate("invisible(gc())")
            try python.exec("gc.collect()")
        }
        for _ in 0..<100 { try await roundTrip() }  // warm up R's, Python's and malloc's pools
        try await settle()
        let before = residentKilobytes()
        var peak = before
        var halfway = before
        for index in 0..<count {
            try await roundTrip()
            peak = max(peak, residentKilobytes())
            if index == count / 2 - 1 {
                try await settle()
                halfway = residentKilobytes()
            }
        }
        try await settle()
        let after = residentKilobytes()
        // Allocator pools keep growing for a while before they plateau; a leak keeps growing in
        // the second half too, so the halfway figure tells the two apart.
        let report: [String: Any] = ["count": count, "rows": rows, "mismatches": mismatches,
                                     "rssBeforeKB": before, "rssHalfwayKB": halfway, "rssAfterKB": after,
                                     "rssPeakKB": peak]
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }
}

/// Resident set size of this process in KiB, from /proc/self/statm.
func residentKilobytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
}

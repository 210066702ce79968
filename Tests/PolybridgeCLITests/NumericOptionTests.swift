import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// Numeric options out of range are usage errors (exit 64, as every other usage error), found
/// before anything runs: never a crash in a conversion (`Int(Double.nan)` traps with SIGILL) or
/// a timeout that has passed before the first worker starts.
@Suite struct NumericOptionTests {
    @Test(arguments: ["nan", "inf", "-inf", "1e300", "0", "-1", "1000001"])
    func aTimeoutThatIsNotAPositiveFiniteNumberOfSecondsIsAUsageError(value: String) async throws {
        let run = try await runPolybridge(["fit", "--data", "data.parquet", "--formula", "y ~ x", "--workers", "2", "--timeout=\(value)"])
        #expect(run.status == 64, "\(run.error)")
        #expect(run.error.contains("Error: --timeout must be a number of seconds above 0 and at most 1000000"), "\(run.error)")
        #expect(run.error.contains("Usage: polybridge fit"), "\(run.error)")
    }

    @Test(arguments: [["bench", "runtime", "--calls", "0"], ["bench", "dispatch", "--workers=-1"],
                      ["bench", "dispatch", "--rounds", "0"], ["bench", "handoff", "--repeats", "0"],
                      ["bench", "convert", "--rows=-5"], ["stress", "errors", "--count=-1"],
                      ["stress", "conversion", "--rows", "0"], ["run", "p.yaml", "--workers", "0"],
                      ["fit", "--data", "d.csv", "--formula", "y ~ x", "--chunk-rows", "0"]])
    func aCountBelowOneIsAUsageError(arguments: [String]) async throws {
        let run = try await runPolybridge(arguments)
        #expect(run.status == 64, "\(run.error)")
        #expect(run.error.contains("must be at least 1 (got"), "\(run.error)")
    }

    /// A timeout shorter than a worker's start: the message says the timeout was exceeded, not
    /// that the worker failed to start.
    @Test func aTimeoutShorterThanAWorkersStartNamesTheTimeout() async throws {
        let directory = try scratchDirectory()
        let csv = directory + "/d.csv"
        try Data("y,x\n1,1\n2,3\n3,2\n4,5\n".utf8).write(to: URL(fileURLWithPath: csv))
        let run = try await runPolybridge(["fit", "--data", csv, "--formula", "y ~ x", "--workers", "1", "--chunks", "2",
                                           "--timeout", "0.001"])
        #expect(run.status == 1, "\(run.error)")
        #expect(run.error.contains("a worker process did not start within the timeout of 0.001 s"), "\(run.error)")
    }
}

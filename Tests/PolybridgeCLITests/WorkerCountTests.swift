import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// `--workers` starts no more processes than there is work for, and warns when the processes
/// started outnumber the machine's cores. Processes are counted from /proc while the command runs.
@Suite struct WorkerCountTests {
    let cores = ProcessInfo.processInfo.activeProcessorCount

    @Test func moreWorkersThanChunksStartOneProcessPerChunk() async throws {
        let parquet = try await FitCommandTests().mtcarsParquet()
        let watched = try await runPolybridgeWatchingProcesses(["fit", "--data", parquet, "--formula", "mpg ~ wt",
                                                                "--workers", "12", "--chunks", "4"])
        #expect(watched.run.status == 0, "\(watched.run.error)")
        #expect(!watched.workers.isEmpty && watched.workers.count <= 4, "\(watched.workers.count) worker processes for 4 chunks")
    }

    @Test func moreWorkersThanCoresWarnOnStandardError() async throws {
        let parquet = try await FitCommandTests().mtcarsParquet()
        let count = cores + 1
        let run = try await runPolybridge(["fit", "--data", parquet, "--formula", "mpg ~ wt", "--workers", "\(count + 5)",
                                           "--chunks", "\(count)", "--json"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.error.contains("warning: \(count) worker processes (--workers \(count + 5), capped at the \(count) chunks) on this machine's \(cores) cores"),
                "\(run.error)")
        // Standard output stays the fit's.
        #expect((try? JSONDecoder().decode(LinearModelFit.self, from: Data(run.output.utf8))) != nil, "\(run.output)")
    }

    @Test func workersWithinTheCoresDoNotWarn() async throws {
        let parquet = try await FitCommandTests().mtcarsParquet()
        let run = try await runPolybridge(["fit", "--data", parquet, "--formula", "mpg ~ wt", "--workers", "\(cores)", "--chunks", "\(cores)"])
        #expect(run.status == 0, "\(run.error)")
        #expect(!run.error.contains("warning"), "\(run.error)")
    }

    /// A pipeline's worker processes run R steps: more of them than R steps are never needed,
    /// and more than the cores are warned about.
    @Test func aPipelinesWorkersAreCappedAtItsRStepsAndWarnedAboutPastTheCores() async throws {
        let directory = try scratchDirectory()
        let steps = (0...cores).map { "  - {id: r\($0), kind: r, code: \"data.frame(x = \($0))\"}" }
        try Data(("name: p\nsteps:\n" + steps.joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: directory + "/many.yaml"))
        try Data("name: p\nsteps:\n  - {id: one, kind: r, code: \"data.frame(x = 1)\"}\n".utf8)
            .write(to: URL(fileURLWithPath: directory + "/one.yaml"))
        let many = try await runPolybridge(["run", directory + "/many.yaml", "--no-cache", "--workers", "100"])
        #expect(many.status == 0, "\(many.error)")
        #expect(many.error.contains("warning: \(cores + 1) worker processes (--workers 100, capped at the \(cores + 1) R steps) on this machine's \(cores) cores"),
                "\(many.error)")
        let one = try await runPolybridge(["run", directory + "/one.yaml", "--no-cache", "--workers", "100"])
        #expect(one.status == 0, "\(one.error)")
        #expect(!one.error.contains("warning"), "\(one.error)")
    }
}

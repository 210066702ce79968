import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// `--worker-binary` that cannot run is named, with the reason, before an engine starts.
@Suite struct WorkerBinaryTests {
    /// A path that does not exist, a directory (which failed with a bare "Permission denied")
    /// and a file without the x bit.
    func badBinaries() throws -> [(path: String, reason: String)] {
        let directory = try scratchDirectory()
        let plain = directory + "/not-executable"
        try Data("#!/bin/sh\n".utf8).write(to: URL(fileURLWithPath: plain))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: plain)
        return [(directory + "/missing/polybridge", ": no such file"), (directory, " is a directory, not the polybridge executable"),
                (plain, " is not executable")]
    }

    @Test(arguments: ["ray", "dask"])
    func fitNamesAWorkerBinaryThatCannotRun(executor: String) async throws {
        let parquet = try scratchDirectory() + "/d.parquet"
        try PythonRuntime.shared().exec("""
            import pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({'y': [1.0, 2.0, 4.0, 3.0], 'x': [1.0, 2.0, 3.0, 4.0]}), '\(parquet)')
            """)
        for (path, reason) in try badBinaries() {
            let run = try await runPolybridge(["fit", "--data", parquet, "--formula", "y ~ x", "--workers", "1",
                                               "--executor", executor, "--worker-binary", path])
            #expect(run.status == 1, "\(run.error)")
            #expect(run.error.contains("error: --worker-binary \(path)\(reason)"), "\(run.error)")
            #expect(!run.error.contains("cannot start"), "the engine started: \(run.error)")
        }
    }

    @Test func runNamesAWorkerBinaryThatCannotRun() async throws {
        let pipeline = try scratchDirectory() + "/p.yaml"
        try Data("name: t\nsteps:\n  - {id: s, kind: r, code: 'data.frame(a = 1)'}\n".utf8).write(to: URL(fileURLWithPath: pipeline))
        for (path, reason) in try badBinaries() {
            let run = try await runPolybridge(["run", pipeline, "--no-cache", "--executor", "dask", "--worker-binary", path])
            #expect(run.status == 1, "\(run.error)")
            #expect(run.error.contains("error: --worker-binary \(path)\(reason)"), "\(run.error)")
        }
    }
}

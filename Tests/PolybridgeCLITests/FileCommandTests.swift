import Foundation
import PolybridgeTestSupport
import Testing

/// `polybridge convert` and `polybridge inspect` as a user runs them: exit codes, messages, output.
@Suite struct FileCommandTests {
    @Test func convertWritesTheFileAndExitsZero() async throws {
        let output = try scratchDirectory() + "/all.rds"
        let run = try await runPolybridge("convert", fixture("all_types.parquet"), output)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("6 rows × 9 columns"))
        #expect(FileManager.default.fileExists(atPath: output))
    }

    @Test func badInputExitsOneNamingTheFileAndLeavesNothing() async throws {
        let directory = try scratchDirectory()
        let run = try await runPolybridge("convert", fixture("truncated.parquet"), directory + "/out.csv")
        #expect(run.status == 1)
        #expect(run.error.contains("truncated.parquet"))
        #expect(run.error.contains("not a readable Parquet file"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func unknownExtensionExitsOneAndFromOverridesIt() async throws {
        let directory = try scratchDirectory()
        let input = directory + "/data.txt"
        try FileManager.default.copyItem(atPath: fixture("clean.csv"), toPath: input)
        let refused = try await runPolybridge("convert", input, directory + "/out.parquet")
        #expect(refused.status == 1)
        #expect(refused.error.contains("unknown extension '.txt'"))
        let accepted = try await runPolybridge("convert", "--from", "csv", input, directory + "/out.parquet")
        #expect(accepted.status == 0, "\(accepted.error)")
    }

    @Test func inspectPrintsColumnsTypesAndNulls() async throws {
        let run = try await runPolybridge("inspect", fixture("all_types.feather"))
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("Feather (Arrow IPC), 6 rows, 9 columns, 2 batch(es)"))
        let tsLine = run.output.split(separator: "\n").first { $0.hasPrefix("ts ") }
        #expect(tsLine?.contains("timestamp[us, tz=Europe/Paris]") == true)
        #expect(tsLine?.hasSuffix("1") == true)
    }

    @Test func inspectJSONDecodes() async throws {
        let run = try await runPolybridge("inspect", "--json", fixture("all_types.rds"))
        #expect(run.status == 0, "\(run.error)")
        let object = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
        #expect(object?["rows"] as? Int == 4)
        let columns = object?["columns"] as? [[String: Any]] ?? []
        #expect(columns.map { $0["name"] as? String } == ["dbl", "int", "lgl", "chr", "fct", "ord", "day", "ts"])
        #expect(columns.first { $0["name"] as? String == "ord" }?["rType"] as? String == "ordered factor")
    }

    /// Ctrl-C during a conversion exits 130 and leaves nothing: no partial file, no temporary.
    ///
    /// The input is a named pipe that this test keeps open after writing the first rows, so the
    /// conversion is certainly still running (waiting for more input) when the signal arrives.
    @Test func ctrlCDuringConversionLeavesNoPartialOutput() async throws {
        let directory = try scratchDirectory()
        let input = directory + "/incoming.csv", output = directory + "/big.parquet"
        #expect(mkfifo(input, 0o600) == 0)
        // Writing to the pipe after polybridge has gone must be an error here, not a SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        (process.executableURL, process.arguments) = withDefaultInterrupt(polybridgeExecutable(), ["convert", input, output])
        process.environment = childEnvironment()
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        // Opening the write end blocks until polybridge opens the read end.
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: input))
        var text = "id,value,label\n"
        for row in 0..<300_000 { text += "\(row),\(row / 2),label\(row % 7)\n" }
        writer.write(Data(text.utf8))
        // Wait until the output's temporary file exists: the conversion has started writing.
        let deadline = Date().addingTimeInterval(60)
        var started = false
        while Date() < deadline, !started {
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            started = names.contains { $0 != "incoming.csv" }
            if !started { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(started, "the conversion never started writing its output")
        #expect(process.isRunning, "the conversion ended before the signal: \(process.terminationStatus)")
        kill(process.processIdentifier, SIGINT)
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        try writer.close()
        #expect(process.terminationReason == .exit, "killed by signal \(process.terminationStatus)")
        #expect(process.terminationStatus == 130)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["incoming.csv"])
    }
}

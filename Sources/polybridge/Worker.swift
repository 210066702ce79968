import ArgumentParser
import CProcess
import Foundation
import Polybridge

/// `polybridge worker`: a warm worker of a process pool. Reads one JSON request per line on
/// standard input (a chunk task and its data file), answers one JSON line on standard output.
/// The data file is read once and kept for later tasks.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Serve chunk tasks on stdin/stdout (used by the worker pool).", shouldDisplay: false)

    func run() async throws {
        // However the coordinator ends (Ctrl-C, kill -9, a crash), its workers end with it.
        guard pb_die_with_parent() == 0 else { throw ExitCode(1) }
        var tables: [String: ArrowTable] = [:]
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Inf", negativeInfinity: "-Inf", nan: "NaN")
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Inf", negativeInfinity: "-Inf", nan: "NaN")
        while let line = readLine(strippingNewline: true) {
            var response = WorkerResponse()
            do {
                let request = try decoder.decode(WorkerRequest.self, from: Data(line.utf8))
                let table: ArrowTable
                if let cached = tables[request.path] {
                    table = cached
                } else {
                    table = try await DataFiles.readTable(request.path)
                    tables[request.path] = table
                }
                let rows = try table.slice(rows: request.task.rows)
                let task = request.task
                response.result = try await RRuntime.shared().withSession { session in
                    try LinearModelChunkWork.run(task, on: try session.dataFrame(from: rows), in: session)
                }
            } catch let error as RError {
                response.failure = LinearModelChunkWork.message(of: error)
            } catch {
                response.failure = "\(error)"
            }
            FileHandle.standardOutput.write(try encoder.encode(response) + Data("\n".utf8))
        }
    }
}

import ArgumentParser
import CProcess
import Foundation
import Polybridge

/// `polybridge worker`: a warm worker of a process pool. Reads one JSON request per line on
/// standard input (a chunk task and its data file), answers one JSON line on standard output.
/// A Parquet or Arrow IPC file is read by row groups, only the chunk's rows of the model's
/// columns; other files are read once and kept for later tasks.
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
                let task = request.task
                let table: ArrowTable
                let format = try? DataFileFormat(path: request.path)
                if task.step != .fit, format == .parquet || format == .feather,
                   let columns = try await LinearModelChunkWork.columnsRead(by: task.specification) {
                    // Only the chunk's rows of the model's columns: the row groups that hold them.
                    table = try await DataFiles.readRows(request.path, rows: task.rows, columns: columns)
                } else {
                    if tables[request.path] == nil { tables[request.path] = try await DataFiles.readTable(request.path) }
                    table = try tables[request.path]!.slice(rows: task.rows)
                }
                response.result = try await LinearModelChunkWork.run(task, rows: table)
            } catch let error as RError {
                response.failure = LinearModelChunkWork.message(of: error)
            } catch {
                response.failure = "\(error)"
            }
            FileHandle.standardOutput.write(try encoder.encode(response) + Data("\n".utf8))
        }
    }
}

import Foundation
import PolybridgeArrow
import PolybridgeFiles
import PolybridgeModels
import PolybridgeRuntime

/// An R or Python step run in a `polybridge worker` process: an R step beside this process's
/// own R (R is one thread per process, so two R steps at once need two processes), or any R or
/// Python step on a Ray or Dask worker (`polybridge run --executor`). Inputs and outputs travel
/// as Arrow IPC files in the node's shared memory (`/dev/shm`), which both sides map without
/// copying; only their paths travel over the worker's pipe.
public enum PipelineWorker {
    struct Request: Codable {
        var id: String
        /// `python` for a Python step; an R step otherwise.
        var kind: String?
        /// How a Python step receives its tables (`frames`).
        var frames: String?
        /// The working directory the step runs in (the pipeline file's folder), when not the worker's own.
        var directory: String?
        var script: String?
        var code: String?
        var function: String?
        var params: [Parameter]
        var inputs: [Input]
        var outputDirectory: String
    }

    struct Parameter: Codable {
        var name: String
        var value: PipelineValue
    }

    struct Input: Codable {
        var name: String
        var path: String
    }

    struct Response: Codable {
        var outputs: [String: String]
    }

    /// JSON with non-finite numbers spelled out (parameters may be .inf or .nan).
    private static var encoder: JSONEncoder { WorkerJSON.encoder() }
    private static var decoder: JSONDecoder { WorkerJSON.decoder() }

    /// Runs the R step a coordinator encoded in `payload` (in a `polybridge worker` process) and
    /// returns where its outputs are.
    public static func handle(_ payload: String) async throws -> String {
        let request = try decoder.decode(Request.self, from: Data(payload.utf8))
        if let directory = request.directory, !FileManager.default.changeCurrentDirectoryPath(directory) {
            throw PipelineError.stepFailed(step: request.id, message: "cannot change to the pipeline's folder \(directory) on node \(ProcessInfo.processInfo.hostName)")
        }
        var inputs: [String: ArrowTable] = [:]
        for input in request.inputs { inputs[input.name] = try await DataFiles.readTable(input.path, format: .feather) }
        let step = PipelineStep(id: request.id, kind: request.kind == "python" ? .python : .r,
                                inputs: request.inputs.map { PipelineStep.Input(name: $0.name, step: "", output: nil) },
                                params: request.params.map { ($0.name, $0.value) },
                                path: nil, script: request.script, code: request.code, function: request.function,
                                frames: request.frames, formula: nil, weights: nil, offset: nil, line: 0, keyLines: [:])
        let outputs = try await PipelineSteps.run(step, inputs: inputs)
        var paths: [String: String] = [:]
        for (index, (name, table)) in outputs.sorted(by: { $0.key < $1.key }).enumerated() {
            let path = request.outputDirectory + "/\(request.id).out\(index).arrow"
            _ = try await DataFiles.writeTable(table, to: path, format: .feather, compression: "none")
            ProcessFolders.keepPrivate(path)
            paths[name] = path
        }
        return String(decoding: try encoder.encode(Response(outputs: paths)), as: UTF8.self)
    }

    /// The failure message a worker answers with when a step fails: R's message and call, or
    /// Python's traceback.
    public static func message(of error: any Error) -> String {
        PipelineRuntime.message(of: error)
    }

    /// Runs the R or Python `step` on a worker of `engine` (Ray or Dask): the coordinator puts
    /// the input tables into the engine, the engine worker hands them to its `polybridge
    /// worker` process as Arrow IPC files in shared memory, and the outputs come back the same way.
    static func run(_ step: PipelineStep, inputs: [String: ArrowTable], on engine: EngineExecutor) async throws -> [String: ArrowTable] {
        let request = Request(id: step.id, kind: step.kind == .python ? "python" : nil, frames: step.frames,
                              directory: FileManager.default.currentDirectoryPath,
                              script: step.script, code: step.code, function: step.function,
                              params: step.params.map { Parameter(name: $0.name, value: $0.value) },
                              inputs: step.inputs.map { Input(name: $0.name, path: "") }, outputDirectory: "")
        var tables: [String: ArrowTable] = [:]
        for input in step.inputs { tables[input.name] = inputs[input.name]! }
        do {
            return try await engine.roundTrip(payload: String(decoding: try encoder.encode(request), as: UTF8.self), tables: tables)
        } catch LinearModelError.data(let message) {
            throw RemoteStepError(message: message)
        }
    }

    /// Runs the R `step` on a worker of `pool`, its inputs handed over in `directory`.
    static func run(_ step: PipelineStep, inputs: [String: ArrowTable], directory: String,
                    roundTrip: (String) async throws -> String) async throws -> [String: ArrowTable] {
        var handed: [Input] = []
        for input in step.inputs {
            let path = directory + "/\(step.id).in-\(handed.count).arrow"
            _ = try await DataFiles.writeTable(inputs[input.name]!, to: path, format: .feather, compression: "none")
            ProcessFolders.keepPrivate(path)
            handed.append(Input(name: input.name, path: path))
        }
        let request = Request(id: step.id, kind: nil, frames: nil, directory: nil, script: step.script, code: step.code, function: step.function,
                              params: step.params.map { Parameter(name: $0.name, value: $0.value) },
                              inputs: handed, outputDirectory: directory)
        let answer = try await roundTrip(String(decoding: try encoder.encode(request), as: UTF8.self))
        let response = try decoder.decode(Response.self, from: Data(answer.utf8))
        var outputs: [String: ArrowTable] = [:]
        for (name, path) in response.outputs { outputs[name] = try await DataFiles.readTable(path, format: .feather) }
        return outputs
    }
}


/// A step's failure in a worker process (on an engine): the worker's message as it gave it
/// (R's message and call, or Python's traceback).
struct RemoteStepError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

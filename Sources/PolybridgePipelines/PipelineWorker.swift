import Foundation
import PolybridgeArrow
import PolybridgeFiles
import PolybridgeModels

/// An R step run in a worker process, so that two R steps can run at once (R is one thread per
/// process). Inputs and outputs travel as Arrow IPC files in shared memory (`/dev/shm`), which
/// both sides map without copying; only their paths travel over the worker's pipe.
public enum PipelineWorker {
    struct Request: Codable {
        var id: String
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
        var inputs: [String: ArrowTable] = [:]
        for input in request.inputs { inputs[input.name] = try await DataFiles.readTable(input.path, format: .feather) }
        let step = PipelineStep(id: request.id, kind: .r,
                                inputs: request.inputs.map { PipelineStep.Input(name: $0.name, step: "", output: nil) },
                                params: request.params.map { ($0.name, $0.value) },
                                path: nil, script: request.script, code: request.code, function: request.function,
                                frames: nil, formula: nil, weights: nil, offset: nil, line: 0, keyLines: [:])
        let outputs = try await PipelineSteps.run(step, inputs: inputs)
        var paths: [String: String] = [:]
        for (index, (name, table)) in outputs.sorted(by: { $0.key < $1.key }).enumerated() {
            let path = request.outputDirectory + "/\(request.id).out\(index).arrow"
            _ = try await DataFiles.writeTable(table, to: path, format: .feather, compression: "none")
            paths[name] = path
        }
        return String(decoding: try encoder.encode(Response(outputs: paths)), as: UTF8.self)
    }

    /// Runs the R `step` on a worker of `pool`, its inputs handed over in `directory`.
    static func run(_ step: PipelineStep, inputs: [String: ArrowTable], directory: String,
                    roundTrip: (String) async throws -> String) async throws -> [String: ArrowTable] {
        var handed: [Input] = []
        for input in step.inputs {
            let path = directory + "/\(step.id).in-\(handed.count).arrow"
            _ = try await DataFiles.writeTable(inputs[input.name]!, to: path, format: .feather, compression: "none")
            handed.append(Input(name: input.name, path: path))
        }
        let request = Request(id: step.id, script: step.script, code: step.code, function: step.function,
                              params: step.params.map { Parameter(name: $0.name, value: $0.value) },
                              inputs: handed, outputDirectory: directory)
        let answer = try await roundTrip(String(decoding: try encoder.encode(request), as: UTF8.self))
        let response = try decoder.decode(Response.self, from: Data(answer.utf8))
        var outputs: [String: ArrowTable] = [:]
        for (name, path) in response.outputs { outputs[name] = try await DataFiles.readTable(path, format: .feather) }
        return outputs
    }
}


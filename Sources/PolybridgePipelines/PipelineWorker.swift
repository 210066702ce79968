import Foundation
import PolybridgeArrow
import PolybridgeFiles
import PolybridgeJobs
import PolybridgeModels
import PolybridgeRuntime

/// An R or Python step run in a `polybridge worker` process: an R step beside this process's
/// own R (R is one thread per process, so two R steps at once need two processes), or any R or
/// Python step on a Ray or Dask worker (`polybridge run --executor`). Inputs and outputs travel
/// as Arrow IPC files in the node's shared memory (`/dev/shm`), which both sides map without
/// copying; only their paths travel over the worker's pipe.
public struct PipelineStepJob: Job {
    /// `pipeline-step`.
    public static let kind = "pipeline-step"
    /// "step".
    public static let noun = "step"

    /// One input table: its argument name and the Arrow IPC file that holds it.
    struct Input: Codable {
        var name: String
        var path: String
    }

    /// One parameter of the step.
    struct Parameter: Codable {
        var name: String
        var value: PipelineValue
    }

    /// Where the step's outputs are: Arrow IPC files by output name.
    public struct Outputs: Codable, Sendable {
        var outputs: [String: String]
    }

    var id: String
    /// `python` for a Python step; an R step otherwise.
    var language: String?
    /// How a Python step receives its tables (`frames`).
    var frames: String?
    /// The working directory the step runs in (the pipeline file's folder), when not the worker's own.
    var directory: String?
    var script: String?
    var code: String?
    var function: String?
    var params: [Parameter]
    var inputs: [Input]
    /// The folder the outputs are written to (filled in by the engine worker on an engine).
    var outputDirectory: String

    /// The job of `step`, its inputs in `inputs` (paths filled in on an engine).
    init(_ step: PipelineStep, inputs: [Input], directory: String?, outputDirectory: String) {
        id = step.id
        language = step.kind == .python ? "python" : nil
        frames = step.kind == .python ? step.frames : nil
        self.directory = directory
        script = step.script
        code = step.code
        function = step.function
        params = step.params.map { Parameter(name: $0.name, value: $0.value) }
        self.inputs = inputs
        self.outputDirectory = outputDirectory
    }

    /// Reads the inputs, runs the step, writes its outputs; a failure is a ``JobError`` with R's
    /// message and call or Python's traceback.
    public func run(in context: JobContext) async throws -> Outputs {
        do {
            return try await runStep()
        } catch {
            var failure = JobError(error)
            failure.message = PipelineRuntime.message(of: error)
            throw failure
        }
    }

    private func runStep() async throws -> Outputs {
        if let directory, !FileManager.default.changeCurrentDirectoryPath(directory) {
            throw PipelineError.stepFailed(step: id, message: "cannot change to the pipeline's folder \(directory) on node \(ProcessInfo.processInfo.hostName)")
        }
        var tables: [String: ArrowTable] = [:]
        for input in inputs { tables[input.name] = try await DataFiles.readTable(input.path, format: .feather) }
        let step = PipelineStep(id: id, kind: language == "python" ? .python : .r,
                                inputs: inputs.map { PipelineStep.Input(name: $0.name, step: "", output: nil) },
                                params: params.map { ($0.name, $0.value) },
                                path: nil, script: script, code: code, function: function,
                                frames: frames, formula: nil, weights: nil, offset: nil, line: 0, keyLines: [:])
        let outputs = try await PipelineSteps.run(step, inputs: tables)
        var paths: [String: String] = [:]
        for (index, (name, table)) in outputs.sorted(by: { $0.key < $1.key }).enumerated() {
            let path = outputDirectory + "/\(id).out\(index).arrow"
            _ = try await DataFiles.writeTable(table, to: path, format: .feather, compression: "none")
            ProcessFolders.keepPrivate(path)
            paths[name] = path
        }
        return Outputs(outputs: paths)
    }
}

/// Running pipeline steps in worker processes.
enum PipelineWorker {
    /// Runs the R or Python `step` on a worker of `engine` (Ray or Dask): the coordinator puts
    /// the input tables into the engine, the engine worker hands them to its `polybridge
    /// worker` process as Arrow IPC files in shared memory, and the outputs come back the same way.
    static func run(_ step: PipelineStep, inputs: [String: ArrowTable], on engine: EngineExecutor) async throws -> [String: ArrowTable] {
        let job = PipelineStepJob(step, inputs: step.inputs.map { PipelineStepJob.Input(name: $0.name, path: "") },
                                  directory: FileManager.default.currentDirectoryPath, outputDirectory: "")
        var tables: [String: ArrowTable] = [:]
        for input in step.inputs { tables[input.name] = inputs[input.name]! }
        do {
            return try await engine.run(job, tables: tables)
        } catch let error as JobError {
            throw RemoteStepError(message: error.message)
        }
    }

    /// Runs the R `step` on a worker of `pool`, its inputs handed over in `directory`.
    static func run(_ step: PipelineStep, inputs: [String: ArrowTable], directory: String,
                    pool: ProcessPoolExecutor) async throws -> [String: ArrowTable] {
        var handed: [PipelineStepJob.Input] = []
        for input in step.inputs {
            let path = directory + "/\(step.id).in-\(handed.count).arrow"
            _ = try await DataFiles.writeTable(inputs[input.name]!, to: path, format: .feather, compression: "none")
            ProcessFolders.keepPrivate(path)
            handed.append(PipelineStepJob.Input(name: input.name, path: path))
        }
        let answer = try await pool.run(PipelineStepJob(step, inputs: handed, directory: nil, outputDirectory: directory))
        var outputs: [String: ArrowTable] = [:]
        for (name, path) in answer.outputs { outputs[name] = try await DataFiles.readTable(path, format: .feather) }
        return outputs
    }
}


/// A step's failure in a worker process (on an engine): the worker's message as it gave it
/// (R's message and call, or Python's traceback).
struct RemoteStepError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

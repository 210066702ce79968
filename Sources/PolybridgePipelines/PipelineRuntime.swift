import Foundation
import PolybridgeJobs
import PolybridgeModels
import PolybridgeRuntime

/// Calls into the pipeline helpers of R (`.polybridge_pipeline`) and Python
/// (`_polybridge_pipeline`), installing them on first use.
enum PipelineRuntime {
    /// Installs the R helpers unless this R already has them.
    static func installR(in session: RSession) throws {
        try session.installHelpers(PipelineR.environmentName, from: PipelineR.source, what: "the pipeline helpers")
    }

    /// `.polybridge_pipeline$name(arguments...)` on values.
    static func callR(_ name: String, _ arguments: [RValue]) async throws -> RValue {
        try await RRuntime.shared().withSession { session in
            let values = try arguments.map { try session.make($0) }
            return try session.read(try session.callHelper(PipelineR.environmentName, name, values, from: PipelineR.source,
                                                           what: "the pipeline helpers", purpose: name))
        }
    }

    /// The helper module.
    static func pythonHelpers() throws -> PythonObject {
        try PythonRuntime.shared().helperModule(named: PipelinePython.moduleName, source: PipelinePython.source)
    }

    /// `_polybridge_pipeline.name(arguments...)` on values.
    static func callPython(_ name: String, _ arguments: [PythonValue]) throws -> PythonValue {
        let python = try PythonRuntime.shared()
        let objects = try arguments.map { try python.object($0) }
        return try python.value(of: try python.call(try python.attribute(name, of: try pythonHelpers()), objects))
    }

    /// The strings of an R character vector (NA as "NA").
    static func strings(_ value: RValue) -> [String] {
        if case .character(let values) = value.unstructured { return values.map { $0 ?? "NA" } }
        return []
    }

    /// SHA-256 (hex) of `texts` and the contents of the files at `paths`.
    static func hash(texts: [String], files paths: [String] = []) throws -> String {
        guard case .string(let digest) = try callPython("sha256", [.list(texts.map { .string($0) }), .list(paths.map { .string($0) })]) else {
            throw PipelineError.stepFailed(step: "?", message: "hashing failed")
        }
        return digest
    }

    /// A readable message for an R or Python error: R's message, Python's traceback.
    static func message(of error: any Error) -> String {
        JobError(error).message
    }
}

import Foundation

/// A pipeline: named steps that read data, transform it in R or Python, fit models and write
/// results, each step's inputs being earlier steps' outputs. Made from a pipeline file by
/// ``PipelineFile/load(_:)``; paths in it are absolute (resolved against the file's folder).
public struct Pipeline: Sendable {
    /// The pipeline's name.
    public var name: String
    /// The pipeline file.
    public var file: String
    /// The folder paths in the file are relative to.
    public var directory: String
    /// The steps, in file order.
    public var steps: [PipelineStep]

    /// The step with `id`.
    public func step(_ id: String) -> PipelineStep? { steps.first { $0.id == id } }
}

/// One step of a pipeline.
public struct PipelineStep: Sendable, Equatable {
    /// What a step does.
    public enum Kind: String, Sendable, CaseIterable {
        /// Reads a data file (any format `convert` reads).
        case read
        /// Calls an R function (from a script, or inline code) on R data frames.
        case r
        /// Calls a Python function from a script on pandas, pyarrow or polars frames.
        case python
        /// Fits R's `lm` in chunks (exact combine) on its input.
        case fit
        /// Writes its input to a data file, atomically.
        case write
    }

    /// One input: the name the function sees and the output it is bound to.
    public struct Input: Sendable, Equatable {
        /// The argument name.
        public var name: String
        /// The producing step's id.
        public var step: String
        /// The producing step's named output (`step.output`), or nil for its only output.
        public var output: String?
    }

    /// The step's id, unique in the pipeline.
    public var id: String
    /// Its kind.
    public var kind: Kind
    /// Its inputs, in file order.
    public var inputs: [Input]
    /// Parameters passed to the function as arguments (for `fit`: `chunks`, `combine`).
    public var params: [(name: String, value: PipelineValue)]
    /// The data file (read, write), absolute.
    public var path: String?
    /// The script (r, python), absolute.
    public var script: String?
    /// Inline R code (r without a script): evaluated with the inputs and parameters bound.
    public var code: String?
    /// The function to call in the script.
    public var function: String?
    /// How a Python step receives its frames: `pandas-arrow` (the default: pandas with
    /// pyarrow-backed columns, as `dtype_backend="pyarrow"` gives; exact, NaN apart from NA,
    /// dates as dates, no copy), `pandas` (numpy-backed nullable dtypes, where a double's NaN is
    /// missing as pandas itself treats it, and dates are Python objects), `pyarrow` or `polars`.
    public var frames: String?
    /// The model formula (fit).
    public var formula: String?
    /// The weights column (fit).
    public var weights: String?
    /// The offset column (fit).
    public var offset: String?
    /// The line of the step in the pipeline file.
    public var line: Int
    /// The line of each key of the step, for errors about that key.
    public var keyLines: [String: Int]
    /// Whether an empty result from non-empty inputs fails the step (`fail_on_empty: true`)
    /// instead of being a warning.
    public var failOnEmpty = false

    /// The line of `key` in the file, else the step's line.
    public func line(of key: String) -> Int { keyLines[key] ?? line }

    /// The value of parameter `name`.
    public func parameter(_ name: String) -> PipelineValue? { params.first { $0.name == name }?.value }

    public static func == (a: PipelineStep, b: PipelineStep) -> Bool {
        a.id == b.id && a.kind == b.kind && a.inputs == b.inputs && a.params.map(\.name) == b.params.map(\.name)
            && a.params.map(\.value) == b.params.map(\.value) && a.path == b.path && a.script == b.script
            && a.code == b.code && a.function == b.function && a.frames == b.frames && a.formula == b.formula
            && a.weights == b.weights && a.offset == b.offset && a.failOnEmpty == b.failOnEmpty
    }
}

/// A parameter value from the pipeline file.
public indirect enum PipelineValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([PipelineValue])
    case map([String: PipelineValue])

    /// The value's type as the pipeline file's reader would name it.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .list: "list"
        case .map: "mapping"
        }
    }

    /// The value as canonical JSON (sorted keys), for hashing and for passing to a worker.
    public var json: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .int(let value): return String(value)
        case .double(let value):
            // Python's json reads these spellings; they keep .inf, -.inf and .nan apart in keys.
            if value.isNaN { return "NaN" }
            if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
            return "\(value)"
        case .string(let value):
            let data = (try? JSONEncoder().encode(value)) ?? Data("\"\"".utf8)
            return String(decoding: data, as: UTF8.self)
        case .list(let values): return "[" + values.map(\.json).joined(separator: ",") + "]"
        case .map(let values):
            return "{" + values.keys.sorted().map { PipelineValue.string($0).json + ":" + values[$0]!.json }.joined(separator: ",") + "}"
        }
    }

    public var description: String {
        if case .string(let text) = self { return text }
        return json
    }
}

import Foundation
import PolybridgeModels
import PolybridgeRuntime

/// Checks a pipeline before anything runs: inputs name existing steps and outputs, the steps
/// form no cycle, files and scripts exist, functions are defined in their scripts (found by
/// parsing, nothing runs), and parameters match the functions' arguments and default types.
/// Each error names the step and the line in the pipeline file.
public enum PipelineValidation {
    /// The outputs a fit step makes: one fit's coefficients and statistics, or with `by` the
    /// coefficients and groups tables of one fit per group.
    static func fitOutputs(_ step: PipelineStep) -> [String] {
        step.parameter("by") != nil ? ["coefficients", "groups"] : ["coefficients", "statistics"]
    }
    /// The parameters a fit step takes, with their types.
    static let fitParameters: [String: String] = ["by": "string", "chunks": "integer", "combine": "string", "family": "string", "link": "string"]

    /// Checks `pipeline`; returns the steps in an order that runs every input first.
    @discardableResult
    public static func check(_ pipeline: Pipeline) async throws(PipelineError) -> [PipelineStep] {
        func invalid(_ step: PipelineStep, _ key: String, _ message: String) -> PipelineError {
            .invalid(file: pipeline.file, line: step.line(of: key), step: step.id, message: message)
        }
        for step in pipeline.steps {
            try checkShape(step, invalid: invalid)
            for input in step.inputs {
                guard let source = pipeline.step(input.step) else {
                    throw invalid(step, "inputs.\(input.name)", "input '\(input.name)' names step '\(input.step)', which the pipeline does not have")
                }
                let outputs = fitOutputs(source)
                if let output = input.output, source.kind == .fit, !outputs.contains(output) {
                    throw invalid(step, "inputs.\(input.name)", "step '\(source.id)' (fit) has outputs \(outputs[0]) and \(outputs[1]), not '\(output)'")
                }
                if input.output == nil, source.kind == .fit {
                    throw invalid(step, "inputs.\(input.name)", "step '\(source.id)' (fit) has two outputs: say \(source.id).\(outputs[0]) or \(source.id).\(outputs[1])")
                }
                if input.output != nil, source.kind == .read {
                    throw invalid(step, "inputs.\(input.name)", "step '\(source.id)' (read) has one output: say \(source.id)")
                }
                if source.kind == .write {
                    throw invalid(step, "inputs.\(input.name)", "step '\(source.id)' writes a file and has no output to use")
                }
            }
        }
        let order = try topologicalOrder(pipeline, invalid: invalid)
        for step in pipeline.steps {
            try await checkFunction(step, invalid: invalid)
            try await checkFamily(step, invalid: invalid)
        }
        return order
    }

    private static func checkShape(_ step: PipelineStep, invalid: (PipelineStep, String, String) -> PipelineError) throws(PipelineError) {
        func exists(_ path: String?, _ key: String, _ what: String) throws(PipelineError) {
            guard let path else { throw invalid(step, key, "a \(step.kind.rawValue) step needs `\(key)`") }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw invalid(step, key, "\(what) \(path) does not exist")
            }
        }
        switch step.kind {
        case .read:
            try exists(step.path, "path", "the data file")
            if !step.inputs.isEmpty { throw invalid(step, "inputs", "a read step takes no inputs") }
            if let problem = PipelineFileParams.problem(in: step) { throw invalid(step, problem.key, problem.message) }
        case .write:
            if step.path == nil { throw invalid(step, "path", "a write step needs `path`") }
            if step.inputs.count != 1 { throw invalid(step, "inputs", "a write step takes exactly one input (it has \(step.inputs.count))") }
            if let problem = PipelineFileParams.problem(in: step) { throw invalid(step, problem.key, problem.message) }
        case .r, .python:
            let kind = step.kind.rawValue
            switch (step.script, step.code) {
            case (nil, nil): throw invalid(step, "script", "a\(kind == "r" ? "n" : "") \(kind) step needs `script` (with `function`) or `code`")
            case (.some, .some): throw invalid(step, "code", "give `script` or `code`, not both")
            case (.some, nil):
                try exists(step.script, "script", "the script")
                if step.function == nil { throw invalid(step, "function", "a\(kind == "r" ? "n" : "") \(kind) step with a script needs `function`") }
            case (nil, .some):
                if step.function != nil { throw invalid(step, "function", "inline `code` is evaluated as is: `function` applies to a script") }
            }
            guard step.kind == .python else { break }
            if let frames = step.frames, !["pandas", "pandas-arrow", "pyarrow", "polars"].contains(frames) {
                throw invalid(step, "as", "`as` must be pandas, pandas-arrow, pyarrow or polars (not '\(frames)')")
            }
        case .fit:
            if step.formula == nil { throw invalid(step, "formula", "a fit step needs `formula`") }
            if step.inputs.count != 1 { throw invalid(step, "inputs", "a fit step takes exactly one input (it has \(step.inputs.count))") }
            for parameter in step.params {
                guard let expected = fitParameters[parameter.name] else {
                    throw invalid(step, "params.\(parameter.name)", "unknown parameter '\(parameter.name)' for a fit step (parameters: by, chunks, combine, family, link)")
                }
                guard accepts(expected, parameter.value) else {
                    throw invalid(step, "params.\(parameter.name)", "parameter '\(parameter.name)' must be \(article(expected)), not \(article(parameter.value.typeName)) (\(parameter.value))")
                }
            }
            if case .int(let chunks)? = step.parameter("chunks"), chunks < 1 {
                throw invalid(step, "params.chunks", "parameter 'chunks' must be at least 1 (got \(chunks))")
            }
            if step.parameter("link") != nil && step.parameter("family") == nil {
                throw invalid(step, "params.link", "parameter 'link' applies to a glm fit: give 'family' too")
            }
            if step.parameter("family") != nil, step.parameter("chunks") != nil || step.parameter("combine") != nil {
                throw invalid(step, "params.family", "a glm fit step (family) fits its whole input: chunks and combine apply to lm")
            }
            if case .string(let by)? = step.parameter("by") {
                if by.split(separator: ",", omittingEmptySubsequences: false).contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                    throw invalid(step, "params.by", "parameter 'by' names the columns to group by, separated by commas (got '\(by)')")
                }
                if step.parameter("chunks") != nil || step.parameter("combine") != nil {
                    throw invalid(step, "params.by", "a fit per group (by) fits each group whole: chunks and combine do not apply to it")
                }
            }
            if case .string(let combine)? = step.parameter("combine"), !["exact", "average"].contains(combine) {
                throw invalid(step, "params.combine", "parameter 'combine' must be exact or average (not '\(combine)')")
            }
        }
    }

    /// Steps ordered so each comes after its inputs; a cycle is an error naming it.
    static func topologicalOrder(_ pipeline: Pipeline, invalid: (PipelineStep, String, String) -> PipelineError) throws(PipelineError) -> [PipelineStep] {
        var state: [String: Int] = [:]  // 1: on the path, 2: done
        var order: [PipelineStep] = []
        var path: [String] = []
        func visit(_ step: PipelineStep) throws(PipelineError) {
            if state[step.id] == 2 { return }
            if state[step.id] == 1 {
                let cycle = path.drop { $0 != step.id } + [step.id]
                let first = pipeline.step(cycle.first!)!
                throw invalid(first, "inputs", "the steps form a cycle: \(cycle.joined(separator: " → "))")
            }
            state[step.id] = 1
            path.append(step.id)
            for input in step.inputs { if let source = pipeline.step(input.step) { try visit(source) } }
            path.removeLast()
            state[step.id] = 2
            order.append(step)
        }
        for step in pipeline.steps { try visit(step) }
        return order
    }

    /// A glm fit step's family and link are ones R accepts (checked before anything runs).
    private static func checkFamily(_ step: PipelineStep, invalid: (PipelineStep, String, String) -> PipelineError) async throws(PipelineError) {
        guard step.kind == .fit, case .string(let family)? = step.parameter("family") else { return }
        var link: String?
        if case .string(let given)? = step.parameter("link") { link = given }
        do {
            try await GeneralizedLinearModel.checkFamily(family, link: link)
        } catch LinearModelError.glmFailed(let message) {
            throw invalid(step, link != nil && message.contains("link") ? "params.link" : "params.family", message)
        } catch {
            throw invalid(step, "params.family", "\(error)")
        }
    }

    /// The function exists in its script, takes every input and parameter by name, and each
    /// parameter's value fits the type of the argument's default (or annotation).
    private static func checkFunction(_ step: PipelineStep, invalid: (PipelineStep, String, String) -> PipelineError) async throws(PipelineError) {
        var signature: (found: Bool, args: [String], kinds: [String], open: Bool) = (true, [], [], true)
        var codeProblem: String?
        do {
            switch step.kind {
            case .r:
                if let code = step.code {
                    _ = try await PipelineRuntime.callR("check_code", [.character([code])])
                    return
                }
                let value = try await PipelineRuntime.callR("script_function", [.character([step.script!]), .character([step.function!])])
                guard case .list(let items, _) = value.unstructured, items.count == 3 else { return }
                let args = PipelineRuntime.strings(items[1]), kinds = PipelineRuntime.strings(items[2])
                signature = (items[0] == .logical([true]), args, kinds, args.contains("..."))
            case .python:
                if let code = step.code {
                    if case .string(let problem) = try PipelineRuntime.callPython("check_code", [.string(code)]), !problem.isEmpty {
                        codeProblem = problem
                    }
                    break
                }
                let value = try PipelineRuntime.callPython("function_signature", [.string(step.script!), .string(step.function!)])
                guard case .dictionary(let entries) = value else { return }
                let fields = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
                func texts(_ key: String) -> [String] {
                    guard case .list(let items)? = fields[key] else { return [] }
                    return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
                }
                signature = (fields["found"] == .bool(true), texts("args"), texts("kinds"), fields["varkw"] == .bool(true))
            default:
                return
            }
        } catch {
            throw invalid(step, step.code != nil ? "code" : "script", "cannot read \(step.code != nil ? "the code" : step.script ?? "the script"): \(PipelineRuntime.message(of: error))")
        }
        if let codeProblem { throw invalid(step, "code", "cannot read the code: \(codeProblem)") }
        if step.code != nil { return }
        guard signature.found else {
            throw invalid(step, "function", "\(step.script ?? "the script") defines no function '\(step.function ?? "")' at top level")
        }
        for input in step.inputs where !signature.open && !signature.args.contains(input.name) {
            throw invalid(step, "inputs.\(input.name)", "function '\(step.function!)' has no argument '\(input.name)' for this input (arguments: \(signature.args.joined(separator: ", ")))")
        }
        for parameter in step.params {
            guard let index = signature.args.firstIndex(of: parameter.name) else {
                if signature.open { continue }
                throw invalid(step, "params.\(parameter.name)", "function '\(step.function!)' has no argument '\(parameter.name)' (arguments: \(signature.args.joined(separator: ", ")))")
            }
            let expected = index < signature.kinds.count ? signature.kinds[index] : "other"
            guard accepts(expected, parameter.value) else {
                throw invalid(step, "params.\(parameter.name)", "parameter '\(parameter.name)' must be \(article(expected)) as the function's default says, not \(article(parameter.value.typeName)) (\(parameter.value))")
            }
        }
    }

    /// Whether a value of the file fits an argument whose default (or annotation) is `kind`.
    static func accepts(_ kind: String, _ value: PipelineValue) -> Bool {
        switch (kind, value) {
        case ("number", .int), ("number", .double), ("integer", .int), ("string", .string), ("boolean", .bool),
             ("list", .list), ("mapping", .map), (_, .null):
            return true
        case ("number", _), ("integer", _), ("string", _), ("boolean", _), ("list", _), ("mapping", _):
            return false
        default:
            return true
        }
    }

    private static func article(_ kind: String) -> String {
        ["integer"].contains(kind) ? "an \(kind)" : "a \(kind)"
    }
}

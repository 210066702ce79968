import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeFiles
import PolybridgeModels
import PolybridgeRuntime

/// Runs one step on its inputs (Arrow tables in memory) and returns its outputs by name (""
/// for a step's only output). R and Python receive the tables through Polybridge's own
/// conversions, so NA, NaN, factors, dates and the pandas index survive, and nothing passes
/// through a temporary file.
enum PipelineSteps {
    static func run(_ step: PipelineStep, inputs: [String: ArrowTable]) async throws -> [String: ArrowTable] {
        switch step.kind {
        case .read:
            return ["": try await DataFiles.readTable(step.path!, encoding: PipelineFileParams.string("encoding", of: step),
                                                      delimiter: PipelineFileParams.string("delimiter", of: step),
                                                      columnTypes: PipelineFileParams.columnTypes(of: step))]
        case .write:
            // As pipeline tools do, the output's folder is made when missing.
            let folder = URL(fileURLWithPath: step.path!).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            _ = try await DataFiles.writeTable(inputs.values.first!, to: step.path!,
                                               compression: PipelineFileParams.string("compression", of: step),
                                               delimiter: PipelineFileParams.string("delimiter", of: step),
                                               rowGroupRows: PipelineFileParams.integer("row_group_rows", of: step))
            return [:]
        case .r:
            return try await runR(step, inputs: inputs)
        case .python:
            // Python holds its thread for the whole step: a thread of its own, not one of the pool's.
            return try await runOnOwnThread { try runPython(step, inputs: inputs) }
        case .fit:
            return try await runFit(step, input: inputs.values.first!)
        }
    }

    /// An R step: its printed output, messages and warnings go to standard error, prefixed
    /// with the step's id (``StepOutput``).
    private static func runR(_ step: PipelineStep, inputs: [String: ArrowTable]) async throws -> [String: ArrowTable] {
        let printed = StepOutput(step: step.id)
        defer { printed.finish() }
        return try await RRuntime.shared().withSession(console: printed.rConsole) { session in
            try PipelineRuntime.installR(in: session)
            var names: [String] = []
            var values: [RValue] = []
            for parameter in step.params {
                names.append(parameter.name)
                values.append(rValue(parameter.value))
            }
            var arguments: [SEXP] = []
            for input in step.inputs {
                // R's classes and attributes travel in the table's `r` metadata, as in files.
                let (frame, notes) = try session.dataFrameRestoringRAttributes(from: inputs[input.name]!)
                for note in notes { printed.warn("input \(input.name): \(note)") }
                arguments.append(frame)
            }
            arguments += try values.map { try session.make($0) }
            let list = try session.evaluate(try session.lang(try session.symbol("list"), arguments,
                                                              names: step.inputs.map(\.name) + names), purpose: "the step's arguments")
            let function = try session.evaluateText("\(PipelineR.environmentName)$run_step", purpose: "running step \(step.id)")
            let result = try session.evaluate(try session.lang(function, [
                try session.makeStrings([step.script ?? ""]), try session.makeStrings([step.code ?? ""]),
                try session.makeStrings([step.function ?? ""]), list]), purpose: "running step \(step.id)")
            let count = try session.length(of: result)
            let outputNames = try session.names(of: result) ?? Array(repeating: "", count: count)
            var outputs: [String: ArrowTable] = [:]
            for index in 0..<count {
                let (table, notes) = try session.arrowTableKeepingRAttributes(fromDataFrame: try session.element(of: result, at: index))
                let name = outputNames[index]
                for note in notes { printed.warn(name.isEmpty ? note : "output \(name): \(note)") }
                outputs[name] = table
            }
            return outputs
        }
    }

    /// A parameter as R sees it: numbers as doubles (R's `7`), lists as vectors when their
    /// elements share a type, mappings as named lists.
    static func rValue(_ value: PipelineValue) -> RValue {
        switch value {
        case .null: return .null
        case .bool(let flag): return .logical([flag])
        case .int(let number): return .double([Double(number)])
        case .double(let number): return .double([number])
        case .string(let text): return .character([text])
        case .list(let items):
            if items.allSatisfy({ if case .string = $0 { true } else { false } }) {
                return .character(items.map { if case .string(let text) = $0 { text } else { nil } })
            }
            if items.allSatisfy({ switch $0 { case .int, .double: true; default: false } }) {
                return .double(items.map { switch $0 { case .int(let n): Double(n); case .double(let d): d; default: nil } })
            }
            if items.allSatisfy({ if case .bool = $0 { true } else { false } }) {
                return .logical(items.map { if case .bool(let flag) = $0 { flag } else { nil } })
            }
            return .list(items.map(rValue), names: nil)
        case .map(let entries):
            let keys = entries.keys.sorted()
            return .list(keys.map { rValue(entries[$0]!) }, names: keys)
        }
    }

    private static func runPython(_ step: PipelineStep, inputs: [String: ArrowTable]) throws -> [String: ArrowTable] {
        let python = try PythonRuntime.shared()
        var converted: [String: PythonObject] = [:]
        for input in step.inputs {
            let table = inputs[input.name]!
            switch step.frames ?? "pandas-arrow" {
            case "pyarrow":
                converted[input.name] = try python.pyarrowTable(from: table)
            case "polars":
                let polars = try python.importModule("polars")
                converted[input.name] = try python.call(try python.attribute("from_arrow", of: polars), [try python.pyarrowTable(from: table)])
            case "pandas":
                converted[input.name] = try python.pandasDataFrame(from: table, dtypes: .nullable)
            default:
                // pyarrow-backed columns: exact (NaN apart from NA, dates as dates) and shared.
                converted[input.name] = try python.pandasDataFrame(from: table, dtypes: .arrow)
            }
        }
        let dictionary = try python.call(try python.evaluateObject("dict"), [], keywords: converted)
        let parameters = "{" + step.params.map { PipelineValue.string($0.name).json + ":" + $0.value.json }.joined(separator: ",") + "}"
        let helpers = try PipelineRuntime.pythonHelpers()
        let outputs = try python.call(try python.attribute("run_step", of: helpers), [
            try python.object(step.id), try python.object(step.script ?? ""), try python.object(step.function ?? ""), dictionary,
            try python.object(parameters), try python.object(step.code ?? "")])
        guard case .list(let keys) = try python.value(of: try python.call(try python.evaluateObject("list"), [outputs])) else { return [:] }
        var tables: [String: ArrowTable] = [:]
        let get = try python.attribute("get", of: outputs)
        for key in keys {
            guard case .string(let name) = key else { continue }
            tables[name] = try python.arrowTable(from: try python.call(get, [try python.object(name)]))
        }
        return tables
    }

    private static func runFit(_ step: PipelineStep, input: ArrowTable) async throws -> [String: ArrowTable] {
        if case .string(let by)? = step.parameter("by") { return try await runGroupedFit(step, input: input, by: by) }
        if case .string(let family)? = step.parameter("family") {
            var link: String?
            if case .string(let given)? = step.parameter("link") { link = given }
            return try await runGeneralizedFit(step, input: input, family: family, link: link)
        }
        var chunks = 1
        if case .int(let count)? = step.parameter("chunks") { chunks = count }
        var combine = LinearModelCombine.exact
        if case .string(let name)? = step.parameter("combine"), let chosen = LinearModelCombine(rawValue: name) { combine = chosen }
        let specification = LinearModelSpecification(formula: step.formula!, weights: step.weights, offset: step.offset)
        let fit = try await LinearModel.fitChunked(input, chunks: max(1, min(chunks, input.rowCount)), specification,
                                                   combine: combine, label: step.inputs.first?.step ?? "data")
        let coefficients = try ArrowTable(columns: [
            ("term", try ArrowArray(utf8: fit.coefficients.map(\.name))),
            ("estimate", ArrowArray(float64: fit.coefficients.map(\.estimate))),
            ("std_error", ArrowArray(float64: fit.coefficients.map(\.standardError))),
            ("t_value", ArrowArray(float64: fit.coefficients.map(\.tValue))),
            ("p_value", ArrowArray(float64: fit.coefficients.map { $0.pValue.isNaN ? nil : $0.pValue })),
        ])
        let statistics = try ArrowTable(columns: [
            ("formula", try ArrowArray(utf8: [fit.formula])),
            ("combine", try ArrowArray(utf8: [combine.rawValue])),
            ("chunks", ArrowArray(int32: [Int32(clamping: fit.chunks)])),
            ("r_squared", ArrowArray(float64: [fit.rSquared])),
            ("adj_r_squared", ArrowArray(float64: [fit.adjustedRSquared])),
            ("sigma", ArrowArray(float64: [fit.residualStandardError])),
            ("residual_df", ArrowArray(int32: [Int32(clamping: fit.residualDF)])),
            ("f_statistic", ArrowArray(float64: [fit.fStatistic?.value])),
            ("f_p_value", ArrowArray(float64: [fit.fStatistic?.pValue])),
            ("rows_used", ArrowArray(int32: [Int32(clamping: fit.rowsUsed)])),
            ("rows_dropped_na", ArrowArray(int32: [Int32(clamping: fit.rowsDroppedForNA)])),
            ("aliased", try ArrowArray(utf8: [fit.aliased.joined(separator: ", ")])),
            ("summary", try ArrowArray(utf8: [fit.summary])),
        ])
        return ["coefficients": coefficients, "statistics": statistics]
    }

    /// A fit step with `by`: one lm (or glm, with a `family`) per group of the input, with the
    /// coefficients and groups tables as outputs; the count of groups that could not be fitted
    /// goes to standard error with the step's id.
    private static func runGroupedFit(_ step: PipelineStep, input: ArrowTable, by: String) async throws -> [String: ArrowTable] {
        let columns = by.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let fit: GroupedFit
        if case .string(let family)? = step.parameter("family") {
            var link: String?
            if case .string(let given)? = step.parameter("link") { link = given }
            fit = try await GeneralizedLinearModel.fitGrouped(input, by: columns, GeneralizedLinearModelSpecification(
                formula: step.formula!, family: family, link: link, weights: step.weights, offset: step.offset))
        } else {
            fit = try await LinearModel.fitGrouped(input, by: columns, LinearModelSpecification(formula: step.formula!, weights: step.weights,
                                                                                                  offset: step.offset))
        }
        if !fit.failed.isEmpty {
            let printed = StepOutput(step: step.id)
            printed.warn("\(fit.failed.count) of \(fit.results.count) groups could not be fitted (their errors are in the groups output)")
            printed.finish()
        }
        return ["coefficients": fit.coefficients, "groups": fit.groups]
    }

    /// A fit step with a `family`: R's glm on the whole input; R's warnings go to standard error
    /// with the step's id.
    private static func runGeneralizedFit(_ step: PipelineStep, input: ArrowTable, family: String,
                                          link: String?) async throws -> [String: ArrowTable] {
        let specification = GeneralizedLinearModelSpecification(formula: step.formula!, family: family, link: link,
                                                                 weights: step.weights, offset: step.offset)
        let fit = try await GeneralizedLinearModel.fit(input, specification, label: step.inputs.first?.step ?? "data")
        let printed = StepOutput(step: step.id)
        for warning in fit.warnings { printed.warn(warning) }
        printed.finish()
        let coefficients = try ArrowTable(columns: [
            ("term", try ArrowArray(utf8: fit.coefficients.map(\.name))),
            ("estimate", ArrowArray(float64: fit.coefficients.map(\.estimate))),
            ("std_error", ArrowArray(float64: fit.coefficients.map(\.standardError))),
            (fit.statisticName.hasPrefix("z") ? "z_value" : "t_value", ArrowArray(float64: fit.coefficients.map(\.statistic))),
            ("p_value", ArrowArray(float64: fit.coefficients.map { $0.pValue.isNaN ? nil : $0.pValue })),
        ])
        let statistics = try ArrowTable(columns: [
            ("formula", try ArrowArray(utf8: [fit.formula])),
            ("family", try ArrowArray(utf8: [fit.family])),
            ("link", try ArrowArray(utf8: [fit.link])),
            ("deviance", ArrowArray(float64: [fit.deviance])),
            ("null_deviance", ArrowArray(float64: [fit.nullDeviance])),
            ("residual_df", ArrowArray(int32: [Int32(clamping: fit.residualDF)])),
            ("null_df", ArrowArray(int32: [Int32(clamping: fit.nullDF)])),
            ("aic", ArrowArray(float64: [fit.aic.isNaN ? nil : fit.aic])),
            ("dispersion", ArrowArray(float64: [fit.dispersion])),
            ("iterations", ArrowArray(int32: [Int32(clamping: fit.iterations)])),
            ("converged", ArrowArray(bool: [fit.converged])),
            ("rows_used", ArrowArray(int32: [Int32(clamping: fit.rowsUsed)])),
            ("rows_dropped_na", ArrowArray(int32: [Int32(clamping: fit.rowsDropped)])),
            ("aliased", try ArrowArray(utf8: [fit.aliased.joined(separator: ", ")])),
            ("summary", try ArrowArray(utf8: [fit.summary])),
        ])
        return ["coefficients": coefficients, "statistics": statistics]
    }
}

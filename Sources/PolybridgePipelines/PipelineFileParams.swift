import Foundation

/// The `params` of read and write steps: the options of `polybridge convert` that apply to
/// reading or writing a file, checked before anything runs.
enum PipelineFileParams {
    /// The parameters a read step takes, with their types (`column_types` may also be a mapping).
    static let read: [String: String] = ["column_types": "string", "delimiter": "string", "encoding": "string"]
    /// The parameters a write step takes, with their types.
    static let write: [String: String] = ["compression": "string", "delimiter": "string", "row_group_rows": "integer"]

    /// The problem with one of `step`'s params, as (parameter key, message), or nil.
    static func problem(in step: PipelineStep) -> (key: String, message: String)? {
        let accepted = step.kind == .read ? read : write
        for parameter in step.params {
            let key = "params.\(parameter.name)"
            guard let expected = accepted[parameter.name] else {
                return (key, "unknown parameter '\(parameter.name)' for a \(step.kind.rawValue) step (parameters: \(accepted.keys.sorted().joined(separator: ", ")))")
            }
            if parameter.name == "column_types" {
                if case .map(let entries) = parameter.value, entries.values.allSatisfy({ if case .string = $0 { true } else { false } }) { continue }
                guard case .string(let text) = parameter.value, columnTypes(text) != nil else {
                    return (key, "parameter 'column_types' must be 'name=type,…' or a mapping of names to types (got \(parameter.value))")
                }
                continue
            }
            guard PipelineValidation.accepts(expected, parameter.value), parameter.value != .null else {
                return (key, "parameter '\(parameter.name)' must be a\(expected == "integer" ? "n" : "") \(expected), not \(parameter.value.typeName) (\(parameter.value))")
            }
            if parameter.name == "row_group_rows", case .int(let rows) = parameter.value, rows < 1 {
                return (key, "parameter 'row_group_rows' must be at least 1 (got \(rows))")
            }
        }
        return nil
    }

    /// `name=type,…` as `--column-types` reads it (the last `=` splits name from type); nil when malformed.
    static func columnTypes(_ text: String) -> [String: String]? {
        var types: [String: String] = [:]
        for entry in text.split(separator: ",", omittingEmptySubsequences: true) {
            guard let equals = entry.lastIndex(of: "="), equals != entry.startIndex,
                  entry.index(after: equals) != entry.endIndex else { return nil }
            types[String(entry[..<equals])] = String(entry[entry.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        }
        return types.isEmpty ? nil : types
    }

    /// The column types of a read step (validated already).
    static func columnTypes(of step: PipelineStep) -> [String: String] {
        switch step.parameter("column_types") {
        case .string(let text)?: return columnTypes(text) ?? [:]
        case .map(let entries)?: return entries.compactMapValues { if case .string(let type) = $0 { type } else { nil } }
        default: return [:]
        }
    }

    /// The text of a string parameter of `step`, if given.
    static func string(_ name: String, of step: PipelineStep) -> String? {
        if case .string(let text)? = step.parameter(name) { return text }
        return nil
    }

    /// The value of an integer parameter of `step`, if given.
    static func integer(_ name: String, of step: PipelineStep) -> Int? {
        if case .int(let value)? = step.parameter(name) { return value }
        return nil
    }
}

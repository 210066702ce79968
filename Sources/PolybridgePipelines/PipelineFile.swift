import Foundation
import Yams

/// Reads a pipeline file (YAML) into a ``Pipeline``: the structure is checked key by key, with
/// the line of each problem; paths are resolved against the file's folder. What needs R or
/// Python (functions in scripts, their parameters) is checked by ``PipelineValidation``.
public enum PipelineFile {
    /// The keys each kind of step accepts (besides `id`, `kind`, `inputs` and `params`).
    static let keys: [PipelineStep.Kind: Set<String>] = [
        .read: ["path"], .write: ["path"], .r: ["script", "code", "function", "fail_on_empty"],
        .python: ["script", "code", "function", "as", "fail_on_empty"], .fit: ["formula", "weights", "offset", "fail_on_empty"],
    ]
    static let commonKeys: Set<String> = ["id", "kind", "inputs", "params"]

    /// The largest pipeline file read (1 MiB): a pipeline is configuration, and YAML's nodes
    /// cost far more memory than its text.
    public static let maximumFileSize = 1 << 20

    /// The most values all the steps' `params` may hold together, counting each use of a YAML
    /// alias as the values it repeats: nine levels of nine aliases (a "billion laughs" file of a
    /// few hundred bytes) would otherwise expand to 387 million values and exhaust memory.
    public static let maximumParameterValues = 100_000

    /// Reads and checks the structure of the pipeline file at `path`.
    public static func load(_ path: String) throws(PipelineError) -> Pipeline {
        let file = URL(fileURLWithPath: path).standardizedFileURL
        let bytes: Data
        do {
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            // One byte past the limit tells a file at the limit from a larger one (a device or
            // pipe included, whose size stat cannot give).
            bytes = try handle.read(upToCount: maximumFileSize + 1) ?? Data()
        } catch {
            throw .unreadable(file: path, detail: "cannot read the pipeline file (\(error.localizedDescription))")
        }
        guard bytes.count <= maximumFileSize else {
            throw .unreadable(file: path, detail: "the pipeline file is larger than \(maximumFileSize / 1024) KiB; a pipeline file holds steps, not data")
        }
        guard let text = String(data: bytes, encoding: .utf8) else {
            throw .unreadable(file: path, detail: "cannot read the pipeline file (it is not UTF-8 text)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw .unreadable(file: path, detail: "not valid YAML: \(error)")
        }
        return try parse(root, file: path, directory: file.deletingLastPathComponent().path)
    }

    private static func parse(_ root: Node?, file: String, directory: String) throws(PipelineError) -> Pipeline {
        func invalid(_ node: Node?, _ step: String?, _ message: String) -> PipelineError {
            .invalid(file: file, line: node?.mark?.line ?? 1, step: step, message: message)
        }
        guard let root, case .mapping(let top) = root else {
            throw invalid(root, nil, "a pipeline file is a mapping with `name` and `steps`")
        }
        var name: String?
        var stepsNode: Node?
        for (key, value) in top {
            switch key.string ?? "" {
            case "name":
                guard let text = scalarString(value) else { throw invalid(value, nil, "`name` must be a string") }
                name = text
            case "steps":
                stepsNode = value
            default:
                throw invalid(key, nil, "unknown key '\(key.string ?? "?")' (a pipeline file has `name` and `steps`)")
            }
        }
        guard let name else { throw invalid(root, nil, "the pipeline has no `name`") }
        guard let stepsNode, case .sequence(let sequence) = stepsNode else {
            throw invalid(stepsNode ?? root, nil, "`steps` must be a list of steps")
        }
        var steps: [PipelineStep] = []
        var parameterValuesLeft = maximumParameterValues
        for node in sequence {
            let step = try parseStep(node, directory: directory, parameterValuesLeft: &parameterValuesLeft, invalid: invalid)
            if let earlier = steps.first(where: { $0.id == step.id }) {
                throw invalid(node, step.id, "the id '\(step.id)' is used twice (first on line \(earlier.line))")
            }
            steps.append(step)
        }
        if steps.isEmpty { throw invalid(stepsNode, nil, "the pipeline has no steps") }
        return Pipeline(name: name, file: URL(fileURLWithPath: file).standardizedFileURL.path, directory: directory, steps: steps)
    }

    private static func parseStep(_ node: Node, directory: String, parameterValuesLeft: inout Int,
                                  invalid: (Node?, String?, String) -> PipelineError) throws(PipelineError) -> PipelineStep {
        guard case .mapping(let mapping) = node else { throw invalid(node, nil, "a step must be a mapping with `id` and `kind`") }
        var fields: [String: Node] = [:]
        var lines: [String: Int] = [:]
        var keyNodes: [String: Node] = [:]
        for (key, value) in mapping {
            guard let text = key.string else { throw invalid(key, nil, "a step's keys must be strings") }
            fields[text] = value
            keyNodes[text] = key
            lines[text] = key.mark?.line
        }
        guard let idNode = fields["id"], let id = scalarString(idNode), !id.isEmpty else {
            throw invalid(node, nil, "a step has no `id`")
        }
        guard id.range(of: #"^[A-Za-z_][A-Za-z0-9_\-]*$"#, options: .regularExpression) != nil else {
            throw invalid(idNode, id, "the id '\(id)' must start with a letter or _ and hold only letters, digits, _ and -")
        }
        guard let kindNode = fields["kind"], let kindText = scalarString(kindNode) else { throw invalid(node, id, "the step has no `kind`") }
        guard let kind = PipelineStep.Kind(rawValue: kindText) else {
            throw invalid(kindNode, id, "unknown kind '\(kindText)' (kinds: \(PipelineStep.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let allowed = commonKeys.union(keys[kind]!)
        for key in fields.keys.sorted() where !allowed.contains(key) {
            throw invalid(keyNodes[key], id, "unknown key '\(key)' for a \(kind.rawValue) step (keys: \(allowed.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws(PipelineError) -> String? {
            guard let value = fields[key] else { return nil }
            guard let text = scalarString(value) else { throw invalid(value, id, "`\(key)` must be a string") }
            return text
        }
        func resolved(_ relative: String?) -> String? {
            relative.map { URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path }
        }
        var inputs: [PipelineStep.Input] = []
        if let inputsNode = fields["inputs"] {
            guard case .mapping(let map) = inputsNode else {
                throw invalid(inputsNode, id, "`inputs` must map argument names to step ids, e.g. {d: raw}")
            }
            for (key, value) in map {
                guard let argument = key.string, let reference = scalarString(value) else {
                    throw invalid(value, id, "`inputs` must map argument names to step ids, e.g. {d: raw}")
                }
                let parts = reference.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard let source = parts.first, !source.isEmpty, parts.count == 1 || !parts[1].isEmpty else {
                    throw invalid(value, id, "input '\(argument)' must name a step, as `step` or `step.output` (got '\(reference)')")
                }
                if inputs.contains(where: { $0.name == argument }) {
                    throw invalid(key, id, "the input name '\(argument)' is used twice")
                }
                inputs.append(PipelineStep.Input(name: argument, step: source, output: parts.count > 1 ? parts[1] : nil))
                lines["inputs.\(argument)"] = value.mark?.line
            }
        }
        var params: [(name: String, value: PipelineValue)] = []
        if let paramsNode = fields["params"] {
            guard case .mapping(let map) = paramsNode else { throw invalid(paramsNode, id, "`params` must be a mapping of names to values") }
            for (key, value) in map {
                guard let parameter = key.string else { throw invalid(key, id, "parameter names must be strings") }
                if params.contains(where: { $0.name == parameter }) || inputs.contains(where: { $0.name == parameter }) {
                    throw invalid(key, id, "the name '\(parameter)' is used twice (inputs and params share the function's arguments)")
                }
                params.append((parameter, try self.value(value, step: id, parameter: key, valuesLeft: &parameterValuesLeft,
                                                          invalid: invalid)))
                lines["params.\(parameter)"] = value.mark?.line
            }
        }
        var failOnEmpty = false
        if let flag = fields["fail_on_empty"] {
            guard case .scalar = flag, Tag.Name(rawValue: flag.tag.rawValue) == .bool, let value = flag.bool else {
                throw invalid(flag, id, "`fail_on_empty` must be true or false")
            }
            failOnEmpty = value
        }
        return PipelineStep(id: id, kind: kind, inputs: inputs, params: params, path: resolved(try string("path")),
                            script: resolved(try string("script")), code: try string("code"), function: try string("function"),
                            frames: try string("as"), formula: try string("formula"), weights: try string("weights"),
                            offset: try string("offset"), line: node.mark?.line ?? 1, keyLines: lines.compactMapValues { $0 },
                            failOnEmpty: failOnEmpty)
    }

    /// A scalar's text, whatever YAML type it resolves to (numbers included), or nil.
    private static func scalarString(_ node: Node) -> String? {
        guard case .scalar(let scalar) = node else { return nil }
        return scalar.string
    }

    /// The value of a parameter's node. `valuesLeft` counts down every value made, an alias's
    /// values each time it is used; at zero the error names the parameter's line, not the
    /// anchor's (an alias's node carries the mark of the node it repeats).
    private static func value(_ node: Node, step: String, parameter: Node, valuesLeft: inout Int,
                              invalid: (Node?, String?, String) -> PipelineError) throws(PipelineError) -> PipelineValue {
        valuesLeft -= 1
        guard valuesLeft >= 0 else {
            throw invalid(parameter, step, "the parameters hold more than \(maximumParameterValues) values "
                          + "(each use of a YAML alias counts the values it repeats); parameter '\(parameter.string ?? "?")' goes past it")
        }
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: if let value = node.bool { return .bool(value) }
            case .int: if let value = node.int { return .int(value) }
            case .float: if let value = node.float { return .double(value) }
            default: break
            }
            return .string(scalar.string)
        case .sequence(let sequence):
            var values: [PipelineValue] = []
            for item in sequence {
                values.append(try value(item, step: step, parameter: parameter, valuesLeft: &valuesLeft, invalid: invalid))
            }
            return .list(values)
        case .mapping(let mapping):
            var values: [String: PipelineValue] = [:]
            for (key, item) in mapping {
                guard let name = key.string else { throw invalid(key, step, "mapping keys in params must be strings") }
                values[name] = try value(item, step: step, parameter: parameter, valuesLeft: &valuesLeft, invalid: invalid)
            }
            return .map(values)
        case .alias:
            throw invalid(node, step, "YAML aliases are not supported in params")
        }
    }
}

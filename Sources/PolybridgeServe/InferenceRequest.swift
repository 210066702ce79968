import Foundation
import PolybridgeArrow
import PolybridgeModels

/// A request that cannot be served, with the HTTP status it answers and a message naming the
/// field at fault.
struct RequestProblem: Error {
    var status: Int
    var message: String

    static func bad(_ message: String) -> RequestProblem { RequestProblem(status: 400, message: message) }
}

/// A JSON value as the request body holds it (numbers and logicals kept apart).
enum JSONItem {
    case null, bool(Bool), number(Double), text(String), list([JSONItem]), object([String: JSONItem])

    /// The body parsed, or a 400 saying where it is not JSON.
    static func parse(_ body: Data) throws -> JSONItem {
        try body.withUnsafeBytes { try JSONReader.parse($0) }
    }

    var object: [String: JSONItem]? { if case .object(let value) = self { value } else { nil } }
    var list: [JSONItem]? { if case .list(let value) = self { value } else { nil } }
    var text: String? { if case .text(let value) = self { value } else { nil } }
    var isNull: Bool { if case .null = self { true } else { false } }
}

/// The rows of a prediction request, as named columns, and `predict`'s options.
struct InferenceRequest {
    var names: [String]
    var columns: [PredictionColumn]
    var type: String?
    var interval: String?

    var rowCount: Int { columns.first?.count ?? 0 }

    /// An Open Inference Protocol v2 infer body: `{"inputs": [{"name", "shape", "datatype",
    /// "data"}], "parameters": {"type", "interval"}}`.
    static func openInference(_ body: Data) throws -> InferenceRequest {
        guard let root = try JSONItem.parse(body).object else { throw RequestProblem.bad("the body is not a JSON object") }
        guard let inputs = root["inputs"]?.list else { throw RequestProblem.bad("the body has no 'inputs' list") }
        var request = InferenceRequest(names: [], columns: [])
        for (index, item) in inputs.enumerated() {
            guard let input = item.object else { throw RequestProblem.bad("inputs[\(index)] is not an object") }
            guard let name = input["name"]?.text, !name.isEmpty else { throw RequestProblem.bad("inputs[\(index)] has no 'name'") }
            guard let datatype = input["datatype"]?.text else { throw RequestProblem.bad("inputs[\(index)] (\(name)) has no 'datatype'") }
            guard var data = input["data"]?.list else { throw RequestProblem.bad("inputs[\(index)] (\(name)) has no 'data' list") }
            // Row-major nested data (shape [n, 1]) is flattened.
            data = data.flatMap { $0.list ?? [$0] }
            if let shape = input["shape"]?.list {
                let sizes = shape.compactMap { if case .number(let n) = $0 { Int(n) } else { nil } }
                if sizes.count != shape.count || sizes.reduce(1, *) != data.count {
                    throw RequestProblem.bad("inputs[\(index)] (\(name)): its shape does not hold its \(data.count) values")
                }
            }
            if request.names.contains(name) { throw RequestProblem.bad("inputs[\(index)]: the input '\(name)' is given twice") }
            request.names.append(name)
            request.columns.append(try column(data, datatype: datatype, field: "inputs[\(index)] (\(name))"))
        }
        if Set(request.columns.map(\.count)).count > 1 {
            throw RequestProblem.bad("the inputs have different lengths (\(request.columns.map { String($0.count) }.joined(separator: ", ")))")
        }
        if let parameters = root["parameters"], !parameters.isNull {
            guard let parameters = parameters.object else { throw RequestProblem.bad("'parameters' is not an object") }
            request.type = try text(parameters["type"], field: "parameters.type")
            request.interval = try text(parameters["interval"], field: "parameters.interval")
        }
        return request
    }

    /// A JSON body of records (vetiver's shape): a list of row objects, `[{"wt": 2.6, "cyl":
    /// 6}, …]`. A column's kind is its first non-null value's (number, text, logical).
    static func records(_ body: Data) throws -> InferenceRequest {
        let (names, values) = try body.withUnsafeBytes { try JSONReader.records($0) }
        var columns: [PredictionColumn] = []
        for (name, values) in zip(names, values) {
            let datatype = switch values.first(where: { !$0.isNull }) {
            case .text: "BYTES"
            case .bool: "BOOL"
            default: "FP64"
            }
            columns.append(try column(values, datatype: datatype, field: "'\(name)'", rowWise: true))
        }
        return InferenceRequest(names: names, columns: columns)
    }

    /// The values of one column of `datatype`; a value of another kind is named by its place.
    private static func column(_ values: [JSONItem], datatype: String, field: String, rowWise: Bool = false) throws -> PredictionColumn {
        func place(_ index: Int) -> String { rowWise ? "\(field) of record \(index + 1)" : "\(field): data[\(index)]" }
        switch datatype {
        case "FP64", "FP32", "FP16", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64":
            return .numbers(try values.enumerated().map { index, value -> Double? in
                switch value {
                case .null: return nil
                case .number(let number): return number
                default: throw RequestProblem.bad("\(place(index)) is not a number")
                }
            })
        case "BYTES":
            return .texts(try values.enumerated().map { index, value -> String? in
                switch value {
                case .null: return nil
                case .text(let text): return text
                default: throw RequestProblem.bad("\(place(index)) is not text")
                }
            })
        case "BOOL":
            return .logicals(try values.enumerated().map { index, value -> Bool? in
                switch value {
                case .null: return nil
                case .bool(let flag): return flag
                default: throw RequestProblem.bad("\(place(index)) is not true or false")
                }
            })
        default:
            throw RequestProblem.bad("\(field): datatype '\(datatype)' is not one of FP64, INT64, BOOL, BYTES")
        }
    }

    private static func text(_ value: JSONItem?, field: String) throws -> String? {
        guard let value, !value.isNull else { return nil }
        guard let text = value.text else { throw RequestProblem.bad("\(field) is not text") }
        return text
    }

    /// Checks the request against the model's inputs: each one is given, of its kind.
    func check(against inputs: [ModelInput]) throws {
        for input in inputs {
            guard let index = names.firstIndex(of: input.name) else { throw RequestProblem.bad("missing input '\(input.name)'") }
            let given: String = switch columns[index] {
            case .numbers: "FP64"
            case .texts: "BYTES"
            case .logicals: "BOOL"
            }
            // Numbers stand for a factor's levels as R's factor() of numbers does; text does not stand for numbers.
            if input.datatype == "FP64" && given == "BYTES" {
                throw RequestProblem.bad("input '\(input.name)' is text (BYTES); the model takes numbers (FP64)")
            }
        }
        if let type, !["response", "link", "terms"].contains(type) { throw RequestProblem.bad("parameters.type '\(type)' is not response or link") }
        if let interval, !["confidence", "prediction", "none"].contains(interval) {
            throw RequestProblem.bad("parameters.interval '\(interval)' is not confidence or prediction")
        }
    }

    /// The columns as an Arrow table, for a saved fit's predictor.
    func table() throws -> ArrowTable {
        try ArrowTable(columns: zip(names, columns).map { name, column in
            switch column {
            case .numbers(let values): ArrowColumn(name: name, array: ArrowArray(float64: values))
            case .texts(let values): ArrowColumn(name: name, array: try ArrowArray(utf8: values))
            case .logicals(let values): ArrowColumn(name: name, array: ArrowArray(bool: values))
            }
        })
    }
}

import Foundation
import PolybridgeJobs
import PolybridgeRuntime

/// One column of the rows a model predicts from.
public enum PredictionColumn: Codable, Sendable, Equatable {
    /// Numbers (R doubles); nil is R's NA.
    case numbers([Double?])
    /// Text (R character, which `predict` turns into the fit's factor levels).
    case texts([String?])
    /// Logicals.
    case logicals([Bool?])

    /// How many rows.
    public var count: Int {
        switch self {
        case .numbers(let values): values.count
        case .texts(let values): values.count
        case .logicals(let values): values.count
        }
    }
}

/// What a model predicted: one value per row (nil for R's NA), and an interval's bounds when
/// one was asked for.
public struct ModelPrediction: Codable, Sendable, Equatable {
    /// The predictions.
    public var fit: [Double?]
    /// The interval's lower and upper bounds (`interval = "confidence"` or `"prediction"`).
    public var lower: [Double?]?
    public var upper: [Double?]?

    /// Predictions `fit`, with an interval's bounds when there is one.
    public init(fit: [Double?], lower: [Double?]? = nil, upper: [Double?]? = nil) {
        (self.fit, self.lower, self.upper) = (fit, lower, upper)
    }
}

/// R's `predict()` of an R model object kept in an RDS file (lm, glm, loess, nls, … any class
/// with a predict method), on a worker: the worker reads the file once per version of it and
/// keeps the model. `type` and `interval` are passed to `predict` when given. R's error (a
/// missing column, a new factor level) is a ``JobError`` with R's message.
public struct ModelPredictionJob: Job {
    /// `predict-model`.
    public static let kind = "predict-model"

    /// The RDS file, as the worker sees it.
    public var model: String
    /// The column names, in order.
    public var names: [String]
    /// The columns.
    public var columns: [PredictionColumn]
    /// `predict`'s `type` ("response", "link", …), or nil.
    public var type: String?
    /// `predict`'s `interval` ("confidence", "prediction"), or nil.
    public var interval: String?

    /// A prediction of `model` on the named columns.
    public init(model: String, names: [String], columns: [PredictionColumn], type: String? = nil, interval: String? = nil) {
        (self.model, self.names, self.columns, self.type, self.interval) = (model, names, columns, type, interval)
    }

    /// The R helpers' source (`.polybridge_predict`).
    public static var helpers: String { EmbeddedScripts.predictR }

    /// What the R model in the RDS file `path` predicts from: its input columns, each one's
    /// kind (`numeric`, `factor` for factor or text, `logical`), and whether a row's prediction
    /// depends on that row alone (an lm or glm of row-wise terms), so rows of several requests
    /// may be predicted in one call. An object without a predict method is an ``RError`` naming
    /// its class.
    public static func describe(_ path: String) async throws -> (names: [String], kinds: [String], rowwise: Bool) {
        try await RRuntime.shared().withSession { session in
            try LinearModelR.install(in: session)
            let value = try session.read(try session.callHelper(".polybridge_predict", "describe", [try session.makeStrings([path])],
                                                                from: helpers, what: "the predict helpers", purpose: "reading the model"))
            let fields = try RFields(value)
            return (try fields.strings("names"), try fields.strings("kinds"), try fields.bool("rowwise"))
        }
    }

    /// Runs R's predict.
    public func run(in context: JobContext) async throws -> ModelPrediction {
        guard names.count == columns.count, Set(columns.map(\.count)).count <= 1 else {
            throw JobError(.failed, "the columns to predict from are not of one length")
        }
        do {
            return try await RRuntime.shared().withSession { session in
                let list: RValue = .list(columns.map { column -> RValue in
                    switch column {
                    case .numbers(let values): .double(values)
                    case .texts(let values): .character(values)
                    case .logicals(let values): .logical(values)
                    }
                }, names: names)
                func optional(_ text: String?) throws -> SEXP { try text.map { try session.makeStrings([$0]) } ?? session.null }
                let value = try session.read(try session.callHelper(".polybridge_predict", "predict_rows", [
                    try session.makeStrings([model]), try session.make(list), try optional(type), try optional(interval)],
                    from: Self.helpers, what: "the predict helpers", purpose: "predicting"))
                guard case .list(let items, let keys?) = value.unstructured else { throw RError.conversion("predict returned \(value.typeName)") }
                func numbers(_ key: String) -> [Double?]? {
                    guard let index = keys.firstIndex(of: key), case .double(let values) = items[index].unstructured else { return nil }
                    return values
                }
                return ModelPrediction(fit: numbers("fit") ?? [], lower: numbers("lwr"), upper: numbers("upr"))
            }
        } catch let error as RError {
            throw JobError(.rError, error.userMessage)
        }
    }
}

import Foundation
import PolybridgeArrow
import PolybridgeJobs
import PolybridgeModels
import PolybridgeRuntime

/// One input column a served model predicts from, as the Open Inference Protocol names it.
public struct ModelInput: Sendable, Equatable, Codable {
    /// The column's name.
    public var name: String
    /// `FP64` (numbers), `BYTES` (text, factor levels) or `BOOL`.
    public var datatype: String
}

/// A model behind the server: a fit saved by `polybridge fit --save`, predicted in Swift, or an
/// R object with a predict method (lm, glm, loess, nls, …), predicted by R on the workers.
public struct ServedModel: Sendable {
    /// How its predictions are made.
    enum Kind: Sendable {
        /// In Swift, from a saved lm or glm.
        case saved(SavedFitPredictor)
        /// By R's `predict()` on a worker (``ModelPredictionJob``); `rowwise` when a row's
        /// prediction depends on that row alone, so requests waiting for a worker may be sent
        /// to it together.
        case rObject(rowwise: Bool)
    }

    /// The name requests use.
    public let name: String
    /// The RDS file it was read from (the file `--model` named).
    public let source: String
    /// The copy of that file this version predicts from: a reload makes a new copy, so requests
    /// still running on the old version read the old file.
    public let path: String
    /// 1, then one more at each reload.
    public let version: Int
    let kind: Kind
    /// Its input columns (empty when the model has no terms to derive them from).
    public let inputs: [ModelInput]
    /// Seconds its load took.
    public let loadSeconds: Double

    /// `polybridge` for a saved fit, `R` for an R object.
    public var platform: String {
        if case .saved = kind { return "polybridge" }
        return "R"
    }

    /// Reads version `version` of the model in the RDS file `source`, copied first into
    /// `folder` (the copy is what it predicts from): a saved fit is prepared for prediction in
    /// Swift; any other object must have a predict method. An unreadable file, or an object
    /// without a predict method, is an error naming the file.
    public static func load(name: String, source: String, version: Int, folder: String) async throws -> ServedModel {
        let started = ContinuousClock.now
        guard FileManager.default.isReadableFile(atPath: source) else {
            throw ServeError.modelUnusable(name: name, path: source, detail: "no readable file there")
        }
        let path = "\(folder)/\(version)-\(name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? String($0) : "_" }.joined()).rds"
        do {
            try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: source, toPath: path)
        } catch {
            throw ServeError.modelUnusable(name: name, path: source, detail: "cannot copy it: \(error.localizedDescription)")
        }
        do {
            if let saved = try await SavedFit.readIfSaved(path) {
                let predictor = try await saved.predictor()
                let text = predictor.textColumns
                let inputs = predictor.columns.map { ModelInput(name: $0, datatype: text.contains($0) ? "BYTES" : "FP64") }
                return ServedModel(name: name, source: source, path: path, version: version, kind: .saved(predictor), inputs: inputs,
                                   loadSeconds: (ContinuousClock.now - started).seconds)
            }
            let (names, kinds, rowwise) = try await ModelPredictionJob.describe(path)
            let inputs = zip(names, kinds).map { ModelInput(name: $0, datatype: $1 == "factor" ? "BYTES" : $1 == "logical" ? "BOOL" : "FP64") }
            return ServedModel(name: name, source: source, path: path, version: version, kind: .rObject(rowwise: rowwise), inputs: inputs,
                               loadSeconds: (ContinuousClock.now - started).seconds)
        } catch let error as RError {
            throw ServeError.modelUnusable(name: name, path: source, detail: error.userMessage)
        } catch let error as LinearModelError {
            throw ServeError.modelUnusable(name: name, path: source, detail: error.description)
        }
    }
}

/// Why the server could not start or serve a model.
public enum ServeError: Error, CustomStringConvertible, Equatable {
    /// A model file that cannot be served.
    case modelUnusable(name: String, path: String, detail: String)
    /// A `--model` that is not NAME=PATH, or a name given twice.
    case badModelOption(String)
    /// A token file that cannot be read or is empty.
    case badTokenFile(path: String, detail: String)

    /// What went wrong, for the person at the terminal.
    public var description: String {
        switch self {
        case .modelUnusable(let name, let path, let detail): "cannot serve model '\(name)' from \(path): \(detail)"
        case .badModelOption(let text): text
        case .badTokenFile(let path, let detail): "cannot use the token file \(path): \(detail)"
        }
    }
}

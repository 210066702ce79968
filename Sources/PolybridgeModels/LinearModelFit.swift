import PolybridgeRuntime

/// What to fit: an R model formula, and optionally the columns holding case weights and an
/// offset (as `lm(formula, data, weights = w, offset = o)`).
public struct LinearModelSpecification: Sendable, Hashable, Codable {
    /// The formula as R text, e.g. `"y ~ x1 + factor(g)"`. It must parse to exactly one formula.
    public var formula: String
    /// The column of case weights, or nil.
    public var weights: String?
    /// The column added to the linear predictor with coefficient 1, or nil.
    public var offset: String?
    /// Functions the caller vouches for as row-wise (each row's value from that row alone),
    /// which a chunked fit then accepts besides its own list, e.g. `["nchar", "toupper"]`.
    public var rowWiseFunctions: [String]

    /// A specification; weights, offset and extra row-wise functions are optional.
    public init(formula: String, weights: String? = nil, offset: String? = nil, rowWiseFunctions: [String] = []) {
        self.formula = formula
        self.weights = weights
        self.offset = offset
        self.rowWiseFunctions = rowWiseFunctions
    }

    private enum CodingKeys: String, CodingKey { case formula, weights, offset, rowWiseFunctions }

    /// Decodes a specification; `rowWiseFunctions` may be absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(formula: try container.decode(String.self, forKey: .formula),
                  weights: try container.decodeIfPresent(String.self, forKey: .weights),
                  offset: try container.decodeIfPresent(String.self, forKey: .offset),
                  rowWiseFunctions: try container.decodeIfPresent([String].self, forKey: .rowWiseFunctions) ?? [])
    }
}

/// How a chunked fit merges its chunks.
public enum LinearModelCombine: String, Sendable, Codable, CaseIterable {
    /// Stack each chunk's QR factor and decide the rank on the stack: equal to `lm` on all rows.
    case exact
    /// Average the chunks' own `lm` coefficients and standard errors (the common recipe):
    /// approximate, and labelled so everywhere.
    case average
}

/// A fitted linear model, as R's `summary.lm` describes it.
public struct LinearModelFit: Sendable, Codable, Equatable, CustomStringConvertible {
    /// One estimated coefficient and its test.
    public struct Coefficient: Sendable, Codable, Equatable {
        /// The model-matrix column, e.g. `(Intercept)` or `factor(cyl)6`.
        public var name: String
        /// The estimate.
        public var estimate: Double
        /// Its standard error.
        public var standardError: Double
        /// The t statistic.
        public var tValue: Double
        /// The two-sided p-value.
        public var pValue: Double
        /// For the average combine, how many chunks estimated it (a chunk that lacks a factor
        /// level has no coefficient for it); nil for other fits.
        public var chunks: Int? = nil
    }

    /// The overall F test of the model against the intercept-only (or empty) model.
    public struct FStatistic: Sendable, Codable, Equatable {
        /// The F value.
        public var value: Double
        /// Numerator degrees of freedom.
        public var numeratorDF: Int
        /// Denominator degrees of freedom.
        public var denominatorDF: Int
        /// Its p-value.
        public var pValue: Double
    }

    /// The formula, as R deparses it.
    public var formula: String
    /// The estimable coefficients, in the order `summary.lm` lists them.
    public var coefficients: [Coefficient]
    /// Coefficients not estimable because their column is a linear combination of others
    /// (R reports them as `NA`).
    public var aliased: [String]
    /// Every coefficient's name in the model matrix's order, the aliased ones among them (the
    /// order of R's `coef()`).
    public var terms: [String]
    /// The residual standard error (sigma).
    public var residualStandardError: Double
    /// Residual degrees of freedom.
    public var residualDF: Int
    /// The rank of the model matrix.
    public var rank: Int
    /// Multiple R².
    public var rSquared: Double
    /// Adjusted R².
    public var adjustedRSquared: Double
    /// The F statistic, nil for a model with no terms beyond the intercept.
    public var fStatistic: FStatistic?
    /// Rows used in the fit (with a non-zero weight).
    public var rowsUsed: Int
    /// Rows dropped because a variable the model uses is missing.
    public var rowsDroppedForNA: Int
    /// The covariance matrix of the estimates, in `coefficients` order.
    public var covariance: [[Double]]
    /// How the fit was made: nil for one `lm` on all rows, else the chunk combine used.
    public var combine: LinearModelCombine?
    /// The number of chunks (1 for a whole-data fit).
    public var chunks: Int
    /// The text R's `print(summary(fit))` shows (residual quantiles are not known for a
    /// chunked fit and say so); an approximate fit says it is approximate.
    public var summary: String

    /// Whether the numbers are an approximation (the average combine) rather than `lm`'s.
    public var isApproximate: Bool { combine == .average }

    /// The coefficient called `name`, or nil (for example when it is aliased).
    public func coefficient(_ name: String) -> Coefficient? {
        coefficients.first { $0.name == name }
    }

    /// The `summary.lm`-like text.
    public var description: String { summary }
}

/// Why a fit failed; every case says what to change.
public enum LinearModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The formula text is not exactly one R formula.
    case invalidFormula(formula: String, reason: String)
    /// A chunked fit's formula calls a function not known to be row-wise (`min(y)`, `x[1]`,
    /// `poly()`, …): a chunk would compute it from its own rows only.
    case notRowWise(formula: String, function: String)
    /// The model matrix would not fit in memory: its rows and columns, the bytes `lm` would
    /// need, the limit, and the factor variable with the most levels.
    case modelTooLarge(rows: Int, columns: Int, bytes: Double, limit: Int, column: String, levels: Int)
    /// The data file workers read changed during the fit (replaced, rewritten or removed).
    case dataFileChanged(path: String, what: String)
    /// A chunked fit would need more memory than the limit: `chunks` chunks of up to
    /// `chunkRows` rows, `columns` model-matrix columns, `atOnce` chunks built at the same time.
    /// `columnsAtLeast`: whether `columns` counts only the levels seen so far (the first chunk's).
    case chunkedModelTooLarge(chunkRows: Int, chunks: Int, atOnce: Int, columns: Int, columnsAtLeast: Bool, bytes: Double,
                              limit: Int, column: String, levels: Int)
    /// R failed fitting the model.
    case fitFailed(message: String)
    /// R's glm failed (or refused the family, link or settings).
    case glmFailed(message: String)
    /// R failed on one chunk: which chunk, its rows (1-based, inclusive) and R's message.
    case chunkFailed(chunk: Int, firstRow: Int, lastRow: Int, message: String)
    /// The data file cannot be used by workers: it is missing, unreadable or not a regular file
    /// (`detail` reads on from the path: "is not a regular file: …").
    case dataFileUnusable(path: String, detail: String)
    /// An executor was given data of a kind it does not read (a table where it reads a file).
    case wrongDataForExecutor(executor: String, needs: String)
    /// A Ray or Dask cluster could not be started or reached.
    case engineUnavailable(engine: String, detail: String)
    /// There was nothing to fit: no chunks, or no chunk fits to average.
    case nothingToFit(String)
    /// A chunk's answer did not fit the step asked (a different kind of result, or model
    /// matrices with different columns): a fault of Polybridge's, not of the data.
    case inconsistentChunks(String)
    /// The coefficient plot could not be written.
    case plotUnwritable(path: String, detail: String)

    /// A message for the person at the terminal.
    public var description: String {
        switch self {
        case .invalidFormula(let formula, let reason):
            return "formula '\(formula)': \(reason)"
        case .notRowWise(let formula, let function):
            return "formula '\(formula)': a chunked fit computes every term from one chunk's rows, so it accepts only row-wise functions (arithmetic and comparison operators, elementwise math such as log or sqrt, I, factor, as.factor, interaction, offset, pmin, pmax, ifelse), and \(function) is not one; fit without chunks or workers, or compute the column first (in a pipeline step, or when writing the data); a function that does compute each row from that row alone can be vouched for (polybridge fit --row-wise NAME, LinearModelSpecification.rowWiseFunctions)"
        case .modelTooLarge(let rows, let columns, let bytes, let limit, let column, let levels):
            func gigabytes(_ value: Double) -> String { String(format: "%.1f GB", value / 1e9) }
            var text = "the model matrix would be \(rows) rows × \(columns) columns: lm needs about \(gigabytes(bytes)), "
                + "more than the \(gigabytes(Double(limit))) of memory available"
            if !column.isEmpty && levels > 1 {
                text += "; \(column) alone adds \(levels - 1) columns (\(levels) distinct values): leave it out, or group its values into fewer levels first"
            }
            return text
        case .chunkedModelTooLarge(let chunkRows, let chunks, let atOnce, let columns, let atLeast, let bytes, let limit,
                                   let column, let levels):
            func gigabytes(_ value: Double) -> String { String(format: "%.1f GB", value / 1e9) }
            var text = "the model has \(atLeast ? "at least " : "")\(columns) columns: \(chunks) chunk(s) of up to \(chunkRows) rows, \(atOnce) at a time, "
                + "and a \(columns + 1)×\(columns + 1) factor per chunk need about \(gigabytes(bytes)), "
                + "more than the \(gigabytes(Double(limit))) of memory available"
            if !column.isEmpty && levels > 1 {
                text += "; \(column) alone adds \(levels - 1) columns (\(levels) distinct values): leave it out, or group its values into fewer levels first"
            }
            return text
        case .dataFileChanged(let path, let what):
            return "the data file \(path) changed during the fit: \(what). Its chunks could mix rows of two versions, so the fit stopped; fit again once the file is complete (write it under another name and rename it into place)"
        case .fitFailed(let message):
            return "lm failed: \(message)"
        case .glmFailed(let message):
            return "glm failed: \(message)"
        case .chunkFailed(let chunk, let firstRow, let lastRow, let message):
            return "chunk \(chunk) (rows \(firstRow)-\(lastRow)): \(message)"
        case .dataFileUnusable(let path, let detail):
            return "\(path) \(detail)"
        case .wrongDataForExecutor(let executor, let needs):
            return "the \(executor) needs \(needs)"
        case .engineUnavailable(let engine, let detail):
            return "cannot start \(engine): \(detail)"
        case .nothingToFit(let what), .inconsistentChunks(let what):
            return what
        case .plotUnwritable(let path, let detail):
            return "cannot write the plot to \(path): \(detail)"
        }
    }
}

extension LinearModelFit {
    /// Decodes the list the R helpers return (`statistics()` / `fit_whole()`).
    init(decoding value: RValue, formula: String, combine: LinearModelCombine?, chunks: Int, summary: String) throws {
        let fields = try RFields(value)
        let names = try fields.strings("names")
        let estimate = try fields.doubles("estimate"), se = try fields.doubles("se")
        let t = try fields.doubles("t"), p = try fields.doubles("p")
        coefficients = names.indices.map { index in
            Coefficient(name: names[index], estimate: estimate[index], standardError: se[index],
                        tValue: t[index], pValue: p[index])
        }
        self.formula = formula
        aliased = try fields.strings("aliased")
        terms = (try? fields.strings("terms")) ?? names + aliased
        residualStandardError = try fields.double("sigma")
        residualDF = Int(try fields.double("rdf"))
        rank = Int(try fields.double("rank"))
        rSquared = try fields.double("r2")
        adjustedRSquared = try fields.double("adj")
        let f = try fields.doubles("fstat")
        fStatistic = f.count == 3 ? FStatistic(value: f[0], numeratorDF: Int(f[1]), denominatorDF: Int(f[2]),
                                               pValue: try fields.double("fp")) : nil
        rowsUsed = Int(try fields.double("n"))
        rowsDroppedForNA = Int(try fields.double("dropped"))
        let flat = try fields.doubles("vcov")
        let k = names.count
        guard flat.count == k * k else { throw RError.conversion("a covariance matrix of \(flat.count) values for \(k) coefficients") }
        covariance = (0..<k).map { row in (0..<k).map { column in flat[column * k + row] } }
        self.combine = combine
        self.chunks = chunks
        self.summary = summary
    }
}

/// Named fields of an R list, read with the types the helpers promise.
struct RFields {
    private var fields: [String: RValue] = [:]

    init(_ value: RValue) throws {
        guard case .list(let items, let names?) = value.unstructured else {
            throw RError.conversion("expected a named list from the lm helpers, got \(value.typeName)")
        }
        for (item, name) in zip(items, names) { if let name { fields[name] = item } }
    }

    func value(_ name: String) throws -> RValue {
        guard let value = fields[name] else { throw RError.conversion("the lm helpers returned no '\(name)'") }
        return value.unstructured
    }

    func doubles(_ name: String) throws -> [Double] {
        switch try value(name) {
        case .double(let values): return values.map { $0 ?? .nan }
        case .integer(let values): return values.map { $0.map(Double.init) ?? .nan }
        case .logical(let values) where values.allSatisfy({ $0 == nil }): return values.map { _ in .nan }
        case .null: return []
        case let other: throw RError.conversion("'\(name)' is \(other.typeName), not numbers")
        }
    }

    func double(_ name: String) throws -> Double {
        guard let first = try doubles(name).first else { throw RError.conversion("'\(name)' is empty") }
        return first
    }

    func bool(_ name: String) throws -> Bool {
        switch try value(name) {
        case .logical(let values): return values.first == true
        case let other: throw RError.conversion("'\(name)' is \(other.typeName), not a logical")
        }
    }

    func strings(_ name: String) throws -> [String] {
        switch try value(name) {
        case .character(let values): return values.map { $0 ?? "NA" }
        case .null: return []
        case let other: throw RError.conversion("'\(name)' is \(other.typeName), not strings")
        }
    }

    /// Strings with R's NA as nil.
    func optionalStrings(_ name: String) throws -> [String?] {
        switch try value(name) {
        case .character(let values): return values
        case .logical(let values) where values.allSatisfy({ $0 == nil }): return values.map { _ in nil }
        case .null: return []
        case let other: throw RError.conversion("'\(name)' is \(other.typeName), not strings")
        }
    }

    func list(_ name: String) throws -> [RValue] {
        switch try value(name) {
        case .list(let items, _): return items
        case .null: return []
        case let other: throw RError.conversion("'\(name)' is \(other.typeName), not a list")
        }
    }
}

extension LinearModelError {
    /// `task`'s chunk failed with `message`: the error names the chunk and its rows (1-based).
    static func chunkFailed(_ task: LinearModelChunkTask, message: String) -> LinearModelError {
        .chunkFailed(chunk: task.chunk, firstRow: task.rows.lowerBound + 1, lastRow: task.rows.upperBound, message: message)
    }
}

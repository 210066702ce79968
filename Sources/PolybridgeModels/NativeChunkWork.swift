import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeRuntime
import Synchronization

extension LinearModelChunkWork {
    /// How a chunk's factor was built.
    public enum Path: String, Sendable {
        /// From the Arrow columns in Swift (R gave the layout and checked the first rows).
        case native
        /// Through R's `model.frame` and `model.matrix`.
        case r
    }

    /// Runs `task` on `rows`, the chunk's rows (at least the columns the model reads). When
    /// every model variable is a bare column of a numeric, string or factor type, the model
    /// matrix is built from the Arrow buffers in Swift and factored in blocks; R only lays out
    /// the columns (names, contrasts) and builds the chunk's first rows, which must equal the
    /// Swift rows exactly, else the chunk goes through R after all. Any other formula runs
    /// through R's `model.frame` and `model.matrix`. Both give `lm`'s model matrix.
    public static func run(_ task: LinearModelChunkTask, rows table: ArrowTable) async throws -> LinearModelChunkResult {
        try await runReportingPath(task, rows: table).result
    }

    /// ``run(_:rows:)``, also saying which path built the result.
    public static func runReportingPath(_ task: LinearModelChunkTask, rows table: ArrowTable) async throws -> (result: LinearModelChunkResult, path: Path) {
        let spec = task.specification
        if task.step != .fit, let plan = try await nativePlan(spec), let data = NativeChunkData(table, plan: plan) {
            switch task.step {
            case .levels:
                return (.levels(data.levels()), .native)
            case .factor(let levels):
                if let factor = try await nativeFactor(data, table: table, task: task, levels: levels) {
                    return (.factor(factor), .native)
                }
            case .levelsAndFactor(let guess):
                let levels = data.levels()
                guard levels.fits(within: guess) else { return (.levelsAndFactor(levels, nil), .native) }
                do {
                    if let factor = try await nativeFactor(data, table: table, task: task, levels: guess) {
                        return (.levelsAndFactor(levels, factor), .native)
                    }
                } catch where !isInterruption(error) {
                    return (.levelsAndFactor(levels, nil), .native)
                }
            case .fit:
                break
            }
        }
        let result = try await RRuntime.shared().withSession { session in
            try run(task, on: try session.dataFrame(from: table), in: session)
        }
        return (result, .r)
    }

    /// The factor built in Swift, or nil when R's rows for the chunk's head differ from it.
    private static func nativeFactor(_ data: NativeChunkData, table: ArrowTable, task: LinearModelChunkTask,
                                     levels: [String: [String]]) async throws -> ChunkFactor? {
        let layout = try await nativeLayout(task.specification.formula, levels: levels, ordered: data.orderedVariables)
        guard try await firstRowsAgree(data, table: table, task: task, layout: layout, levels: levels) else { return nil }
        return try data.factor(layout: layout, levels: levels)
    }

    /// The columns a worker needs to read for `specification`: the model's variables when they
    /// are all bare column names, nil when R must see every column (e.g. `y ~ .`).
    public static func columnsRead(by specification: LinearModelSpecification) async throws -> [String]? {
        try await nativePlan(specification)?.columns
    }

    private static let plans = Mutex<[LinearModelSpecification: NativeModelPlan?]>([:])
    private static let layouts = Mutex<[String: NativeLayout]>([:])

    /// R's verdict on whether the native path can build `specification`'s model matrix.
    static func nativePlan(_ specification: LinearModelSpecification) async throws -> NativeModelPlan? {
        if let known = plans.withLock({ $0[specification] }) { return known }
        let plan: NativeModelPlan? = try await RRuntime.shared().withSession { session in
            let value = try session.read(try LinearModelR.call("native_plan", [try session.makeStrings([specification.formula])],
                                                              in: session, purpose: "planning the chunk work"))
            let fields = try RFields(value)
            guard try fields.strings("reason").first == "" else { return nil }
            return NativeModelPlan(response: try fields.strings("response")[0], predictors: try fields.strings("predictors"),
                                   weights: specification.weights, offset: specification.offset)
        }
        plans.withLock { $0[specification] = plan }
        return plan
    }

    /// The layout of the model matrix for `formula` with the global `levels`.
    static func nativeLayout(_ formula: String, levels: [String: [String]], ordered: [String]) async throws -> NativeLayout {
        let key = [formula, levels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{1}"),
                   ordered.joined(separator: "\u{1}")].joined(separator: "\u{2}")
        if let known = layouts.withLock({ $0[key] }) { return known }
        let layout = try await RRuntime.shared().withSession { session in
            let names = levels.keys.sorted()
            let value = try session.read(try LinearModelR.call("native_layout", [
                try session.makeStrings([formula]), try session.make(.list(names.map { .character(levels[$0]!) }, names: names)),
                try session.make(.character(ordered))], in: session, purpose: "laying out the model matrix"))
            let fields = try RFields(value)
            let variables = try fields.list("variables").map(strings)
            let values = try fields.list("values")
            let columns = try zip(variables, values).map { names, parts -> [NativeLayout.Component] in
                guard case .list(let items, _) = parts.unstructured, items.count == names.count else {
                    throw RError.conversion("the model-matrix layout is malformed")
                }
                return try zip(names, items).map { name, item in
                    switch item.unstructured {
                    case .double(let numbers): return NativeLayout.Component(variable: name, contrast: numbers.map { $0 ?? .nan })
                    case .null: return NativeLayout.Component(variable: name, contrast: [])
                    case let other: throw RError.conversion("a contrast column is \(other.typeName)")
                    }
                }
            }
            return NativeLayout(names: try fields.strings("names"), columns: columns, intercept: try fields.double("intercept") != 0)
        }
        layouts.withLock { $0[key] = layout }
        return layout
    }

    /// Whether R's `model.frame` and `model.matrix` give exactly the Swift-built rows for the
    /// chunk's first rows (the same kept rows, model matrix, response, weights and offset).
    static func firstRowsAgree(_ data: NativeChunkData, table: ArrowTable, task: LinearModelChunkTask,
                                       layout: NativeLayout, levels: [String: [String]]) async throws -> Bool {
        let sample = 0..<min(table.rowCount, 64)
        let native = try data.modelRows(sample, layout: layout, levels: levels)
        let spec = task.specification
        let head = try table.slice(rows: sample)
        return try await RRuntime.shared().withSession { session in
            let names = levels.keys.sorted()
            let value = try session.read(try LinearModelR.call("model_rows", [
                try session.dataFrame(from: head), try session.makeStrings([spec.formula]),
                try optionalString(spec.weights, session), try optionalString(spec.offset, session),
                try session.make(.list(names.map { .character(levels[$0]!) }, names: names))], in: session,
                purpose: "building the chunk's first rows in R"))
            let fields = try RFields(value)
            return try fields.doubles("x") == native.x && fields.doubles("y") == native.y
                && fields.doubles("w") == native.w && fields.doubles("off") == native.offset
                && Int(try fields.double("kept")) == native.y.count
        }
    }
}

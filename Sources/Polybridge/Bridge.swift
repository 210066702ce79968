import PolybridgeRuntime

/// The everyday moves between R, Python and Swift, each one call.
///
/// Data crosses as Arrow buffers: R doubles/integers and Python buffers are shared where the
/// layouts agree, and everything else is converted in bulk.
public enum Bridge {
    /// Evaluates `rExpression` (which must yield a data.frame) and returns it as Arrow.
    public static func table(fromR rExpression: String) async throws -> ArrowTable {
        let r = try RRuntime.shared()
        return try await r.withSession { session in
            let frame = try session.evaluateText(rExpression, purpose: "evaluating \(rExpression)")
            return try session.arrowTable(fromDataFrame: frame)
        }
    }

    /// Assigns `table` as a data.frame to the R global variable `name`.
    public static func assignToR(_ table: ArrowTable, as name: String) async throws {
        let r = try RRuntime.shared()
        try await r.withSession { session in
            let frame = try session.dataFrame(from: table)
            let assign = try session.lang(try session.symbol("assign"), [
                try session.makeStrings([name]), frame, session.globalEnvironment])
            _ = try session.evaluate(assign, purpose: "assigning \(name)")
        }
    }

    /// Imports a Python object that exports Arrow data (pandas, pyarrow, polars) without copying.
    public static func table(fromPython object: PythonObject) throws -> ArrowTable {
        try PythonRuntime.shared().arrowTable(from: object)
    }

    /// R data.frame → pandas DataFrame: evaluates `rExpression` in R and returns the pandas object.
    public static func pandas(fromR rExpression: String, dtypes: PandasDtypes = .nullable) async throws -> PythonObject {
        let table = try await table(fromR: rExpression)
        return try PythonRuntime.shared().pandasDataFrame(from: table, dtypes: dtypes)
    }

    /// pandas (or any Arrow-exporting Python object) → R data.frame assigned to `name`.
    public static func assignToR(python object: PythonObject, as name: String) async throws {
        try await assignToR(try table(fromPython: object), as: name)
    }

    /// Swift table → pandas DataFrame.
    public static func pandas(from table: ArrowTable, dtypes: PandasDtypes = .nullable) throws -> PythonObject {
        try PythonRuntime.shared().pandasDataFrame(from: table, dtypes: dtypes)
    }

    /// Swift table → pyarrow Table.
    public static func pyarrow(from table: ArrowTable) throws -> PythonObject {
        try PythonRuntime.shared().pyarrowTable(from: table)
    }
}

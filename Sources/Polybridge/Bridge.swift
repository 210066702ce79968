import PolybridgeRuntime

/// The everyday moves between R, Python and Swift, each one call.
///
/// Data crosses as Arrow buffers: R doubles/integers and Python buffers are shared where the
/// layouts agree, and everything else is converted in bulk.
public enum Bridge {
    /// Evaluates `rExpression` (which must yield a data.frame) and returns it as Arrow.
    ///
    /// Cancelling the calling task interrupts the R job and throws `CancellationError`;
    /// `RRuntime.interruptCurrentComputation()` (Ctrl-C in the CLI) throws `RError.interrupted`.
    public static func table(fromR rExpression: String) async throws -> ArrowTable {
        let r = try RRuntime.shared()
        return try await r.withSession { session in
            let frame = try session.evaluateText(rExpression, purpose: "evaluating \(rExpression)")
            return try session.arrowTable(fromDataFrame: frame)
        }
    }

    /// Assigns `table` as a data.frame to the R global variable `name`.
    ///
    /// Cancelling the calling task interrupts the R job and throws `CancellationError`.
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
    ///
    /// Cancellation of the R step is as for `table(fromR:)`; the Python step is not interrupted.
    public static func pandas(fromR rExpression: String, dtypes: PandasDtypes = .nullable) async throws -> PythonObject {
        let table = try await table(fromR: rExpression)
        return try PythonRuntime.shared().pandasDataFrame(from: table, dtypes: dtypes)
    }

    /// pandas (or any Arrow-exporting Python object) → R data.frame assigned to `name`.
    ///
    /// Cancelling the calling task during the R step interrupts it and throws `CancellationError`.
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

    /// Binds `table` to the global `name` in Python's `__main__`, where code run by
    /// `PythonRuntime.exec` and `run` sees it: a pandas DataFrame by default, or a pyarrow Table.
    ///
    /// Runs on the calling thread holding the GIL for each Python call; it is not interrupted
    /// by cancellation. Returns the bound object.
    @discardableResult
    public static func assignToPython(_ table: ArrowTable, as name: String,
                                      kind: PythonTableKind = .pandas(.nullable)) throws -> PythonObject {
        let python = try PythonRuntime.shared()
        let object: PythonObject
        switch kind {
        case .pandas(let dtypes): object = try python.pandasDataFrame(from: table, dtypes: dtypes)
        case .pyarrow: object = try python.pyarrowTable(from: table)
        }
        try python.bind(object, as: name)
        return object
    }

    /// R data.frame → the global `name` in Python's `__main__`: evaluates `rExpression` (a
    /// variable name such as `"df"` or any expression that yields a data.frame) in R's global
    /// environment and binds the result as a pandas DataFrame (default) or a pyarrow Table.
    ///
    /// Cancellation: cancelling the calling task while R evaluates or converts interrupts the
    /// R job and throws `CancellationError`, as does a cancel that arrives before the Python
    /// step begins; `RRuntime.interruptCurrentComputation()` (what Ctrl-C does in the CLI)
    /// makes the R step throw `RError.interrupted`. The Python step runs to its end once begun.
    /// Returns the bound object.
    @discardableResult
    public static func assignToPython(fromR rExpression: String, as name: String,
                                      kind: PythonTableKind = .pandas(.nullable)) async throws -> PythonObject {
        let table = try await table(fromR: rExpression)
        try Task.checkCancellation()
        return try assignToPython(table, as: name, kind: kind)
    }
}

/// The Python object a table becomes when it is handed to Python.
public enum PythonTableKind: Sendable, Equatable {
    /// A pandas DataFrame with the given dtype mapping.
    case pandas(PandasDtypes)
    /// A pyarrow Table over the same buffers.
    case pyarrow
}

import CPython
import Foundation
import PolybridgeArrow
import PolybridgeRuntime

/// How Arrow columns become pandas dtypes.
public enum PandasDtypes: String, Sendable, CaseIterable {
    /// Nullable extension dtypes where numpy has no missing value (Int32, Int64, boolean), with
    /// str, category and datetime with tz: integer and logical NA survive. Doubles stay numpy
    /// float64 with NaN for null: pandas 3 reads NaN as missing, and its `Float64` dtype would
    /// turn NaN into NA anyway, so the extension type would cost a copy and keep nothing more.
    case nullable
    /// pandas' defaults (`to_pandas()`): integers with nulls become float64 with NaN.
    case numpy
    /// pyarrow-backed `ArrowDtype` columns: exact, NaN and null stay apart.
    case arrow
}

/// Python ↔ Arrow through the Arrow PyCapsule protocol.
///
/// Python → Swift imports the producer's C stream (`__arrow_c_stream__`) and holds its buffers
/// without copying. Swift → Python hands pyarrow a capsule around a C stream exported from the
/// table, so pyarrow wraps the same memory.
extension PythonRuntime {
    /// Imports any object that exports Arrow data: a pyarrow Table/RecordBatch/Array, a pandas
    /// DataFrame (pandas ≥ 2.2), a polars DataFrame, or anything with `__arrow_c_stream__`.
    public func arrowTable(from object: PythonObject) throws -> ArrowTable {
        // A pandas frame takes a faster route to Arrow than pandas' own export (see arrow_source).
        let source = try call(try attribute("arrow_source", of: try polybridgeHelpers()), [object])
        // The C Data Interface carries names as C strings: one holding a NUL would arrive cut
        // short ("a\0b" as "a"), so it is refused while Python still sees the whole name.
        if case .list(let found) = try value(of: try call(try attribute("name_with_nul", of: try polybridgeHelpers()), [source])),
           found.count == 2, case .int(let position) = found[0], case .string(let name) = found[1] {
            throw ConversionError.nulInColumnName(position: Int(position), name: name)
        }
        let stream = UnsafeMutablePointer<ArrowArrayStream>.allocate(capacity: 1)
        defer { stream.deallocate() }
        let kind: String = try withGIL { gil throws(PythonError) -> String in
            let hasStream = pb_py_get_attribute(source.pointer, "__arrow_c_stream__")
            guard let method = hasStream else {
                pb_py_error_clear()
                let typeName = gil.stringValue(pb_py_type_name(source.pointer)) ?? "object"
                return "unexportable:" + typeName
            }
            let exporter = PythonObject(owning: method)
            let noArguments = try gil.own(pb_py_tuple_new(0))
            let capsule = try withExtendedLifetime(noArguments) { () throws(PythonError) -> PythonObject in
                try gil.own(pb_py_call(exporter.pointer, noArguments.pointer, nil))
            }
            guard let raw = pb_py_capsule_pointer(capsule.pointer, "arrow_array_stream") else { throw gil.fetchError() }
            // Move the stream out of the capsule: copy, then mark the capsule's copy released.
            let source = raw.assumingMemoryBound(to: ArrowArrayStream.self)
            stream.pointee = source.pointee
            source.pointee.release = nil
            return "stream"
        }
        if kind.hasPrefix("unexportable:") {
            throw ConversionError.notArrowExportable(type: String(kind.dropFirst("unexportable:".count)))
        }
        // Consuming calls the producer's callbacks; pyarrow's take the GIL themselves when needed.
        do { return try ArrowTable.consume(stream: stream) } catch { throw ConversionError.arrow(error) }
    }

    /// Exports `table` to Python as a `pyarrow.Table` over the same buffers.
    public func pyarrowTable(from table: ArrowTable) throws -> PythonObject {
        let helpers = try polybridgeHelpers()
        let capsule = try streamCapsule(from: table)
        return try call(try attribute("table_from_stream_capsule", of: helpers), [capsule])
    }

    /// Exports `table` to Python as a `pyarrow.RecordBatchReader` that yields its batches lazily.
    public func pyarrowReader(from table: ArrowTable) throws -> PythonObject {
        let helpers = try polybridgeHelpers()
        let capsule = try streamCapsule(from: table)
        return try call(try attribute("reader_from_stream_capsule", of: helpers), [capsule])
    }

    /// The top-level fields of an object that exports an Arrow schema (`__arrow_c_schema__`):
    /// a pyarrow Schema, RecordBatchReader or Table. Types Polybridge cannot convert come back
    /// as `ArrowDataType.unsupported`, so callers can name them.
    public func arrowFields(of object: PythonObject) throws -> [ArrowField] {
        let exporter = try attribute("__arrow_c_schema__", of: object)
        let capsule = try call(exporter, [])
        let raw: UnsafeRawPointer = try withGIL { gil throws(PythonError) in
            guard let raw = pb_py_capsule_pointer(capsule.pointer, "arrow_schema") else { throw gil.fetchError() }
            return UnsafeRawPointer(raw)
        }
        // The capsule keeps ownership and releases the schema when it is collected.
        let field: ArrowField
        do {
            field = try withExtendedLifetime(capsule) { () throws(ArrowError) -> ArrowField in
                try ArrowField(schema: raw.assumingMemoryBound(to: ArrowSchema.self))
            }
        } catch {
            throw ConversionError.arrow(error)
        }
        guard case .structType(let fields) = field.type else {
            throw ConversionError.arrow(.invalidSchema("expected a struct schema for a table, found \(field.type)"))
        }
        return fields
    }

    /// Exports `table` to Python as a pandas DataFrame with the chosen dtype mapping.
    public func pandasDataFrame(from table: ArrowTable, dtypes: PandasDtypes = .nullable) throws -> PythonObject {
        let helpers = try polybridgeHelpers()
        let capsule = try streamCapsule(from: table)
        return try call(try attribute("pandas_from_stream_capsule", of: helpers), [capsule, try object(dtypes.rawValue)])
    }

    private func streamCapsule(from table: ArrowTable) throws(PythonError) -> PythonObject {
        // The capsule's destructor frees the struct with C's free(), so it comes from malloc().
        guard let memory = malloc(MemoryLayout<ArrowArrayStream>.stride) else {
            throw .conversion("out of memory exporting an Arrow stream")
        }
        let stream = memory.bindMemory(to: ArrowArrayStream.self, capacity: 1)
        table.exportStream(to: stream)
        return try withGIL { gil throws(PythonError) in
            guard let capsule = pb_py_stream_capsule(stream) else {
                stream.pointee.release?(stream)
                free(stream)
                throw gil.fetchError()
            }
            return PythonObject(owning: capsule)
        }
    }

    /// The small Python module that turns a stream capsule into pyarrow/pandas objects.
    private func polybridgeHelpers() throws(PythonError) -> PythonObject {
        try helperModule(named: "_polybridge_arrow", source: PythonHelpers.source)
    }
}

/// Python code for the capsule → pyarrow/pandas step (registered once as `_polybridge_arrow`).
enum PythonHelpers {
    static let source = EmbeddedScripts.polybridgeArrowPy
}

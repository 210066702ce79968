import CArrow

/// errno values used as C stream return codes (identical on Linux and Darwin).
private let streamEINVAL: Int32 = 22
private let streamEIO: Int32 = 5

extension ArrowTable {
    /// Imports a whole C `ArrowArrayStream` (moved: the source's `release` is set to NULL) and releases it when done, even on error.
    ///
    /// The stream's schema must be a struct ("+s") whose children are the
    /// columns. Every batch becomes one chunk per column; chunks are zero-copy
    /// views that keep their batch's C array alive. Producer failures throw
    /// ``ArrowError/streamError(_:)`` with the text of `get_last_error`.
    public static func consume(stream: UnsafeMutablePointer<ArrowArrayStream>) throws(ArrowError) -> ArrowTable {
        guard stream.pointee.release != nil else { throw .streamError("the stream has already been released") }
        let owned = UnsafeMutablePointer<ArrowArrayStream>.allocate(capacity: 1)
        owned.initialize(to: stream.pointee)
        stream.pointee.release = nil
        defer {
            if let release = owned.pointee.release { release(owned) }
            owned.deinitialize(count: 1)
            owned.deallocate()
        }
        guard let getSchema = owned.pointee.get_schema, let getNext = owned.pointee.get_next else {
            throw .streamError("the stream has no get_schema or get_next callback")
        }

        let schema = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: 1)
        schema.initialize(to: ArrowSchema())
        defer {
            if let release = schema.pointee.release { release(schema) }
            schema.deallocate()
        }
        let schemaStatus = getSchema(owned, schema)
        guard schemaStatus == 0 else { throw .streamError(failure(owned, "get_schema", schemaStatus)) }
        let metadata = try ArrowSchemaMetadata.decode(schema.pointee.metadata)
        let fields = try structFields(of: ArrowField(consuming: schema))
        let batchType = ArrowDataType.structType(fields)

        var batches: [ArrowArray] = []
        let next = UnsafeMutablePointer<CArrow.ArrowArray>.allocate(capacity: 1)
        defer { next.deallocate() }
        while true {
            next.initialize(to: CArrow.ArrowArray())
            let status = getNext(owned, next)
            guard status == 0 else { throw .streamError(failure(owned, "get_next", status)) }
            if next.pointee.release == nil { break }
            batches.append(try ArrowArray(consuming: next, type: batchType, column: nil))
        }
        return try table(fields: fields, batches: batches).withMetadata(metadata)
    }

    private static func failure(_ stream: UnsafeMutablePointer<ArrowArrayStream>, _ call: String, _ status: Int32) -> String {
        var text = "\(call) failed with error code \(status)"
        if let message = stream.pointee.get_last_error?(stream) {
            text += ": " + String(cString: message)
        }
        return text
    }

    /// Fills a C `ArrowArrayStream` that yields this table's record batches, holding the table until the stream is released.
    ///
    /// The schema is a struct ("+s") of the columns; each `get_next` yields the
    /// next ``recordBatch(at:)`` (zero-copy) and then end-of-stream. The
    /// callbacks are thread-safe and `get_last_error` returns NULL or a message.
    /// `out` is overwritten without being released first.
    public func exportStream(to out: UnsafeMutablePointer<ArrowArrayStream>) {
        let state = StreamExportState(table: self)
        out.pointee = ArrowArrayStream(
            get_schema: exportedStreamGetSchema,
            get_next: exportedStreamGetNext,
            get_last_error: exportedStreamGetLastError,
            release: exportedStreamRelease,
            private_data: Unmanaged.passRetained(state).toOpaque()
        )
    }
}

/// The producer-side state of an exported stream.
final class StreamExportState: @unchecked Sendable {
    let table: ArrowTable
    let lock = ArrowLock()
    /// Guarded by `lock`.
    var nextBatch = 0
    /// Guarded by `lock`; valid until the next call on the stream.
    var lastError: UnsafeMutablePointer<CChar>?

    init(table: ArrowTable) {
        self.table = table
    }

    /// Replaces the stored error message (call with the lock held).
    func setLastError(_ message: String?) {
        lastError?.deallocate()
        lastError = nil
        guard let message else { return }
        let utf8 = Array(message.utf8)
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count + 1)
        for (i, unit) in utf8.enumerated() { buffer[i] = CChar(bitPattern: unit) }
        buffer[utf8.count] = 0
        lastError = buffer
    }

    deinit {
        lastError?.deallocate()
    }

    static func from(_ stream: UnsafeMutablePointer<ArrowArrayStream>?) -> StreamExportState? {
        guard let stream, stream.pointee.release != nil, let data = stream.pointee.private_data else { return nil }
        return Unmanaged<StreamExportState>.fromOpaque(data).takeUnretainedValue()
    }
}

private func exportedStreamGetSchema(_ stream: UnsafeMutablePointer<ArrowArrayStream>?,
                                     _ out: UnsafeMutablePointer<ArrowSchema>?) -> Int32 {
    guard let state = StreamExportState.from(stream), let out else { return streamEINVAL }
    state.lock.withLock { state.setLastError(nil) }
    state.table.exportSchema(to: out)
    return 0
}

private func exportedStreamGetNext(_ stream: UnsafeMutablePointer<ArrowArrayStream>?,
                                   _ out: UnsafeMutablePointer<CArrow.ArrowArray>?) -> Int32 {
    guard let state = StreamExportState.from(stream), let out else { return streamEINVAL }
    return state.lock.withLock {
        state.setLastError(nil)
        let index = state.nextBatch
        guard index < state.table.recordBatchCount else {
            out.pointee = CArrow.ArrowArray()  // released (NULL release): end of stream
            return 0
        }
        do throws(ArrowError) {
            let batch = try state.table.recordBatch(at: index)
            batch.export(to: out)
            state.nextBatch = index + 1
            return 0
        } catch {
            state.setLastError(error.description)
            return streamEIO
        }
    }
}

private func exportedStreamGetLastError(_ stream: UnsafeMutablePointer<ArrowArrayStream>?) -> UnsafePointer<CChar>? {
    guard let state = StreamExportState.from(stream) else { return nil }
    return state.lock.withLock { state.lastError.map { UnsafePointer($0) } }
}

private func exportedStreamRelease(_ stream: UnsafeMutablePointer<ArrowArrayStream>?) {
    guard let stream, stream.pointee.release != nil else { return }
    if let data = stream.pointee.private_data {
        Unmanaged<StreamExportState>.fromOpaque(data).release()
    }
    stream.pointee.private_data = nil
    stream.pointee.release = nil
}

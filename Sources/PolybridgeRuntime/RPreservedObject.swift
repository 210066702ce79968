import CR

/// Keeps an R object alive from any thread until this Swift object is deinitialised.
///
/// The keep-alive is an O(1) precious-list cell; its release is queued to the R thread, so
/// the last owner may be on any thread (for example an Arrow consumer releasing a zero-copy buffer).
public final class RPreservedObject: @unchecked Sendable {
    private let cell: SEXP
    private let thread: RThread

    init(cell: SEXP, thread: RThread) {
        self.cell = cell
        self.thread = thread
    }

    /// The preserved object; use only on the R thread.
    public var object: SEXP { CAR(cell) }

    deinit {
        let cell = UncheckedSEXP(cell)
        thread.submit { pb_r_release(cell.value) }
    }
}

/// A SEXP moved to the R thread for release; never dereferenced elsewhere.
struct UncheckedSEXP: @unchecked Sendable {
    let value: SEXP
    init(_ value: SEXP) { self.value = value }
}

extension RSession {
    /// Keeps `object` alive beyond this session, until the returned handle is released (any thread).
    public func preserve(_ object: SEXP) throws -> RPreservedObject {
        guard let cell = pb_r_preserve(object) else {
            throw RError.internalCall(operation: "preserving an R object", message: String(cString: pb_r_last_error()))
        }
        return RPreservedObject(cell: cell, thread: thread)
    }

    /// Sets attribute `name` of `object` to `value`.
    public func setAttribute(_ object: SEXP, _ name: String, _ value: SEXP) throws {
        guard pb_r_set_attribute(object, try symbol(name), value) != 0 else {
            throw RError.internalCall(operation: "setting attribute \(name)", message: String(cString: pb_r_last_error()))
        }
    }

    /// The attribute `name` of `object`, or nil when it is not set.
    public func attribute(_ object: SEXP, _ name: String) throws -> SEXP? {
        let value = Rf_getAttrib(object, try symbol(name))
        guard let value, value != pb_r_nil() else { return nil }
        return value
    }
}

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

}

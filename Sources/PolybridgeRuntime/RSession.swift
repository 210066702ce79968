import CR

/// R's object pointer, valid only on the R thread and only while protected or reachable.
public typealias SEXP = CR.SEXP

/// Access to R's C API for code that already runs on the R thread.
///
/// A session is handed to closures passed to `RRuntime.withSession`; it must not escape them.
/// Every operation that can allocate or raise an R error goes through a guarded C shim and
/// throws instead; layers above this one reach R only through these methods.
///
/// Objects the session makes are kept alive until the closure returns. They are held in one
/// list of the session's own (a single precious-list cell), never on R's protect stack, so a
/// conversion of any size uses a constant number of protection slots.
public final class RSession {
    /// The VECSXP holding every object this session keeps alive, and its precious-list cell.
    private var kept: SEXP?
    private var keptCell: SEXP?
    private var keptCount = 0
    private var keptCapacity = 0
    let thread: RThread
    /// The job this session belongs to, so a guard that fails because of a cancel says so.
    let ticket: RJobTicket?

    init(thread: RThread, ticket: RJobTicket? = nil) {
        self.thread = thread
        self.ticket = ticket
    }

    deinit {
        if let keptCell { pb_r_release(keptCell) }
    }

    /// Keeps `object` alive until the session ends, and returns it.
    ///
    /// Appending to the session's list does not allocate; growing it (doubling) does, under a
    /// guard that keeps `object` protected while it allocates.
    @discardableResult
    public func protect(_ object: SEXP) throws -> SEXP {
        if keptCount < keptCapacity {
            _ = pb_r_set_list_element(kept, R_xlen_t(keptCount), object)
        } else {
            let capacity = max(32, keptCapacity * 2)
            var list: SEXP? = nil, cell: SEXP? = nil
            guard pb_r_keep_grow(kept, R_xlen_t(keptCount), R_xlen_t(capacity), object, &list, &cell) != 0,
                  let list, let cell else { throw failure("keeping R objects alive") }
            if let keptCell { pb_r_release(keptCell) }
            kept = list
            keptCell = cell
            keptCapacity = capacity
        }
        keptCount += 1
        return object
    }

    /// The error for a guarded call that did not complete: the job was cancelled, a string was
    /// invalid, or R raised (its message).
    func failure(_ operation: String) -> any Error {
        if let ticket, ticket.cancelled.load(ordering: .acquiring) { return CancellationError() }
        if let ticket, ticket.interruptRequested.load(ordering: .acquiring) { return RError.interrupted }
        let badRow = pb_r_last_bad_row()
        if badRow >= 0 { return RError.invalidString(row: Int(badRow) + 1) }
        return RError.internalCall(operation: operation, message: String(cString: pb_r_last_error()))
    }

    /// R's `NULL`.
    public var null: SEXP { pb_r_nil() }
    /// R's global environment.
    public var globalEnvironment: SEXP { pb_r_global_env() }

    /// Allocates a vector of `type` with `length` elements, kept alive for the session.
    public func allocate(_ type: Int32, length: Int, purpose: String = "allocation") throws -> SEXP {
        var result: SEXP? = nil
        guard pb_r_alloc_vector(SEXPTYPE(type), R_xlen_t(length), &result) != 0, let result else {
            throw failure(purpose)
        }
        return try protect(result)
    }

    /// Evaluates `expression` in `environment`; R errors become `RError.internalCall`.
    public func evaluate(_ expression: SEXP, in environment: SEXP? = nil, purpose: String) throws -> SEXP {
        var result: SEXP? = nil
        guard pb_r_eval(expression, environment ?? globalEnvironment, &result) != 0, let result else {
            throw failure(purpose)
        }
        return try protect(result)
    }

    /// Makes a CHARSXP holding `text` as UTF-8.
    public func makeChar(_ text: String) throws -> SEXP {
        var utf8 = text
        return try utf8.withUTF8 { bytes in
            var result: SEXP? = nil
            let empty: CChar = 0
            let status = withUnsafePointer(to: empty) { emptyPointer in
                let base = UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self)
                return pb_r_mkchar_utf8(base ?? emptyPointer, Int32(bytes.count), &result)
            }
            guard status != 0, let result else { throw failure("making an R string") }
            return try protect(result)
        }
    }

    /// Makes a character vector from Swift strings (`nil` is `NA`) in one guarded call.
    public func makeStrings(_ strings: [String?]) throws -> SEXP {
        // One contiguous buffer of every string's bytes, then pointers into it.
        var bytes: [UInt8] = []
        var starts: [Int] = []
        var lengths: [Int32] = []
        starts.reserveCapacity(strings.count)
        lengths.reserveCapacity(strings.count)
        for string in strings {
            starts.append(bytes.count)
            if let string {
                bytes.append(contentsOf: string.utf8)
                guard let length = Int32(exactly: bytes.count - starts[starts.count - 1]) else {
                    throw RError.conversion("string \(starts.count) is longer than R's limit of 2^31 - 1 bytes")
                }
                lengths.append(length)
            } else {
                lengths.append(-1)
            }
        }
        bytes.append(0)
        return try bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            let pointers: [UnsafePointer<CChar>?] = starts.map { base + $0 }
            return try makeStrings(pointers: pointers, lengths: lengths)
        }
    }

    /// Sets the `names` attribute of `object`.
    public func setNames(_ object: SEXP, _ names: [String]) throws {
        try setAttribute(object, pb_r_names_symbol(), try makeStrings(names), name: "names")
    }

    /// The `names` attribute of `object` as Swift strings, or nil when it has none.
    public func names(of object: SEXP) throws -> [String]? {
        guard let names = try attribute(object, symbol: pb_r_names_symbol(), name: "names"),
              pb_r_type(names) == STRSXP else { return nil }
        return try readStrings(names).map { $0 ?? "" }
    }

    /// The `class` attribute of `object` (empty when it has none).
    public func classes(of object: SEXP) throws -> [String] {
        guard let classes = try attribute(object, symbol: pb_r_class_symbol(), name: "class"),
              pb_r_type(classes) == STRSXP else { return [] }
        return try readStrings(classes).compactMap { $0 }
    }

    /// Reads a character vector as Swift strings, translating other encodings to UTF-8.
    public func readStrings(_ vector: SEXP) throws -> [String?] {
        let utf8 = try utf8Strings(vector)
        let count = try length(of: utf8)
        guard count > 0 else { return [] }
        let elements = try stringElements(of: utf8)
        let na = pb_r_na_string()
        var result: [String?] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            let element = elements[index]
            guard let element, element != na else { result.append(nil); continue }
            result.append(String(decoding: bytes(ofString: element), as: UTF8.self))
        }
        return result
    }
}

extension RSession {
    /// Parses and evaluates `code` in the global environment; the value is kept for the session.
    public func evaluateText(_ code: String, purpose: String) throws -> SEXP {
        var result: SEXP? = nil
        guard pb_r_parse_eval(code, globalEnvironment, &result) != 0, let result else {
            throw failure(purpose)
        }
        return try protect(result)
    }

    /// The symbol `name`.
    public func symbol(_ name: String) throws -> SEXP {
        var result: SEXP? = nil
        guard pb_r_symbol(name, &result) != 0, let result else { throw failure("interning \(name)") }
        return result
    }

    /// A call `function(arguments...)` ready for `evaluate`, kept alive for the session;
    /// `names` (when given) name the arguments, nil for positional ones.
    public func lang(_ function: SEXP, _ arguments: [SEXP], names: [String?] = []) throws -> SEXP {
        let call = try allocate(LANGSXP, length: arguments.count + 1, purpose: "building an R call")
        var tags: [SEXP?] = []
        for name in names { tags.append(try name.flatMap { $0.isEmpty ? nil : try symbol($0) }) }
        // Filling the cells of a pairlist the session owns allocates nothing.
        SETCAR(call, function)
        var cell = CDR(call)
        for (index, argument) in arguments.enumerated() {
            SETCAR(cell, argument)
            if index < tags.count, let tag = tags[index] { SET_TAG(cell, tag) }
            cell = CDR(cell)
        }
        return call
    }

    /// Parses `code`, which must be exactly one R expression, without evaluating it.
    public func parse(_ code: String) throws -> SEXP {
        var result: SEXP? = nil
        guard pb_r_parse_one(code, &result) != 0, let result else {
            throw RError.parse(message: "\(String(cString: pb_r_last_error())): \(code)")
        }
        return try protect(result)
    }

    /// Evaluates `expression` in the global environment; nil when R unwound (an error or an
    /// interrupt), for callers whose R code records what happened itself.
    func evaluateUnlessAborted(_ expression: SEXP) throws -> SEXP? {
        var result: SEXP? = nil
        guard pb_r_eval(expression, globalEnvironment, &result) != 0, let result else { return nil }
        return try protect(result)
    }

    /// The value of `name` in `environment` itself, or nil when it is unbound or NULL.
    func variable(_ name: String, in environment: SEXP) throws -> SEXP? {
        var result: SEXP? = nil
        guard pb_r_variable(environment, try symbol(name), &result) != 0, let result else { throw failure("reading \(name)") }
        return result == pb_r_nil() ? nil : try protect(result)
    }
}

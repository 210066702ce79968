import CR

/// R's object pointer, valid only on the R thread and only while protected or reachable.
public typealias SEXP = CR.SEXP

/// Access to R's C API for code that already runs on the R thread.
///
/// A session is handed to closures passed to `RRuntime.withSession`; it must not escape them.
/// Every operation that can raise an R error goes through a guarded C shim and throws instead.
/// Objects the session allocates are protected until the closure returns.
public final class RSession {
    private var protectedCount: Int32 = 0
    let thread: RThread

    init(thread: RThread) {
        self.thread = thread
    }

    deinit {
        if protectedCount > 0 { Rf_unprotect(protectedCount) }
    }

    /// Protects `object` from R's garbage collector until the session ends, and returns it.
    @discardableResult
    public func protect(_ object: SEXP) -> SEXP {
        Rf_protect(object)
        protectedCount += 1
        return object
    }

    /// R's `NULL`.
    public var null: SEXP { pb_r_nil() }
    /// R's global environment.
    public var globalEnvironment: SEXP { pb_r_global_env() }

    /// Allocates a protected vector of `type` with `length` elements.
    public func allocate(_ type: Int32, length: Int, purpose: String = "allocation") throws -> SEXP {
        var result: SEXP? = nil
        guard pb_r_alloc_vector(SEXPTYPE(type), R_xlen_t(length), &result) != 0, let result else {
            throw RError.internalCall(operation: purpose, message: String(cString: pb_r_last_error()))
        }
        return protect(result)
    }

    /// Evaluates `expression` in `environment`; R errors become `RError.internalCall`.
    public func evaluate(_ expression: SEXP, in environment: SEXP? = nil, purpose: String) throws -> SEXP {
        var result: SEXP? = nil
        guard pb_r_eval(expression, environment ?? globalEnvironment, &result) != 0, let result else {
            throw RError.internalCall(operation: purpose, message: String(cString: pb_r_last_error()))
        }
        return protect(result)
    }

    /// Makes a protected CHARSXP holding `text` as UTF-8.
    public func makeChar(_ text: String) throws -> SEXP {
        var utf8 = text
        return try utf8.withUTF8 { bytes in
            var result: SEXP? = nil
            let empty: CChar = 0
            let status = withUnsafePointer(to: empty) { emptyPointer in
                let base = UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self)
                return pb_r_mkchar_utf8(base ?? emptyPointer, Int32(bytes.count), &result)
            }
            guard status != 0, let result else {
                throw RError.internalCall(operation: "making an R string",
                                          message: String(cString: pb_r_last_error()))
            }
            return protect(result)
        }
    }

    /// Makes a protected character vector from Swift strings (`nil` is `NA`).
    public func makeStrings(_ strings: [String?]) throws -> SEXP {
        let vector = try allocate(STRSXP, length: strings.count, purpose: "allocating a character vector")
        for (index, string) in strings.enumerated() {
            SET_STRING_ELT(vector, R_xlen_t(index), try string.map(makeChar) ?? pb_r_na_string())
        }
        return vector
    }

    /// Sets the `names` attribute of `object`.
    public func setNames(_ object: SEXP, _ names: [String]) throws {
        Rf_setAttrib(object, pb_r_names_symbol(), try makeStrings(names))
    }

    /// The `names` attribute of `object` as Swift strings, or nil when it has none.
    public func names(of object: SEXP) throws -> [String]? {
        guard let names = Rf_getAttrib(object, pb_r_names_symbol()), TYPEOF(names) == STRSXP else { return nil }
        return try readStrings(names).map { $0 ?? "" }
    }

    /// The `class` attribute of `object` (empty when it has none).
    public func classes(of object: SEXP) throws -> [String] {
        guard let classes = Rf_getAttrib(object, pb_r_class_symbol()), TYPEOF(classes) == STRSXP else { return [] }
        return try readStrings(classes).compactMap { $0 }
    }

    /// Reads a character vector as Swift strings, translating other encodings to UTF-8.
    public func readStrings(_ vector: SEXP) throws -> [String?] {
        var utf8: SEXP? = nil
        guard pb_r_strings_as_utf8(vector, &utf8) != 0, let utf8 else {
            throw RError.internalCall(operation: "translating strings to UTF-8",
                                      message: String(cString: pb_r_last_error()))
        }
        protect(utf8)
        let count = Int(XLENGTH(utf8))
        var result: [String?] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            let element = STRING_ELT(utf8, R_xlen_t(index))
            result.append(element == pb_r_na_string() ? nil : String(cString: R_CHAR(element)))
        }
        return result
    }

    /// Copies `object` into a Swift `RValue` (atomic vectors and lists; other objects are described).
    public func read(_ object: SEXP) throws -> RValue {
        let count = Int(Rf_xlength(object))
        switch TYPEOF(object) {
        case NILSXP:
            return .null
        case LGLSXP:
            var raw = [Int32](repeating: 0, count: count)
            _ = raw.withUnsafeMutableBufferPointer { LOGICAL_GET_REGION(object, 0, R_xlen_t(count), $0.baseAddress) }
            return .logical(raw.map { $0 == pb_r_na_int() ? nil : $0 != 0 })
        case INTSXP:
            var raw = [Int32](repeating: 0, count: count)
            _ = raw.withUnsafeMutableBufferPointer { INTEGER_GET_REGION(object, 0, R_xlen_t(count), $0.baseAddress) }
            return .integer(raw.map { $0 == pb_r_na_int() ? nil : $0 })
        case REALSXP:
            var raw = [Double](repeating: 0, count: count)
            _ = raw.withUnsafeMutableBufferPointer { REAL_GET_REGION(object, 0, R_xlen_t(count), $0.baseAddress) }
            return .double(raw.map { pb_r_is_na_real($0) != 0 ? nil : $0 })
        case STRSXP:
            return .character(try readStrings(object))
        case VECSXP:
            var elements: [RValue] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                elements.append(try read(VECTOR_ELT(object, R_xlen_t(index))))
            }
            return .list(elements, names: try names(of: object))
        default:
            let type = String(cString: Rf_type2char(SEXPTYPE(TYPEOF(object))))
            return .other(type: type, classes: try classes(of: object))
        }
    }

    /// Makes a protected R object from a Swift `RValue`.
    public func make(_ value: RValue) throws -> SEXP {
        switch value {
        case .null:
            return null
        case .logical(let elements):
            let vector = try allocate(LGLSXP, length: elements.count)
            let data = LOGICAL(vector)!
            for (i, e) in elements.enumerated() { data[i] = e.map { $0 ? 1 : 0 } ?? pb_r_na_int() }
            return vector
        case .integer(let elements):
            let vector = try allocate(INTSXP, length: elements.count)
            let data = INTEGER(vector)!
            for (i, e) in elements.enumerated() { data[i] = e ?? pb_r_na_int() }
            return vector
        case .double(let elements):
            let vector = try allocate(REALSXP, length: elements.count)
            let data = REAL(vector)!
            for (i, e) in elements.enumerated() { data[i] = e ?? pb_r_na_real() }
            return vector
        case .character(let elements):
            return try makeStrings(elements)
        case .list(let elements, let names):
            let vector = try allocate(VECSXP, length: elements.count)
            for (i, e) in elements.enumerated() { SET_VECTOR_ELT(vector, R_xlen_t(i), try make(e)) }
            if let names { try setNames(vector, names) }
            return vector
        case .other(let type, _):
            throw RError.conversion("cannot make an R \(type) from Swift")
        }
    }
}

extension RSession {
    /// Parses and evaluates `code` in the global environment; the value is protected.
    public func evaluateText(_ code: String, purpose: String) throws -> SEXP {
        var result: SEXP? = nil
        guard pb_r_parse_eval(code, globalEnvironment, &result) != 0, let result else {
            throw RError.internalCall(operation: purpose, message: String(cString: pb_r_last_error()))
        }
        return protect(result)
    }

    /// The symbol `name`.
    public func symbol(_ name: String) throws -> SEXP {
        var result: SEXP? = nil
        guard pb_r_symbol(name, &result) != 0, let result else {
            throw RError.internalCall(operation: "interning \(name)", message: String(cString: pb_r_last_error()))
        }
        return result
    }

    /// A protected call `function(arguments...)` ready for `evaluate`.
    public func lang(_ function: SEXP, _ arguments: [SEXP]) throws -> SEXP {
        let call = try allocate(LANGSXP, length: arguments.count + 1, purpose: "building an R call")
        SETCAR(call, function)
        var cell = CDR(call)
        for argument in arguments {
            SETCAR(cell, argument)
            cell = CDR(cell)
        }
        return call
    }
}

import CR

/// R's vector types, as the conversion layer distinguishes them.
public enum RVectorType: Equatable, Sendable {
    /// `NULL`.
    case null
    /// A logical vector (stored as 32-bit integers, `NA` = `INT_MIN`).
    case logical
    /// An integer vector (`NA` = `INT_MIN`).
    case integer
    /// A double vector (`NA` = one NaN payload).
    case double
    /// A complex vector.
    case complex
    /// A character vector (elements are CHARSXPs).
    case character
    /// A generic vector (R list, data.frame).
    case list
    /// A raw (byte) vector.
    case raw
    /// Anything else, by R's `typeof()` name.
    case other(String)
}

/// Vector access for the layers above the runtime: typed, guarded and bounds-checked, so no
/// module above this one needs R's C API.
///
/// Methods that can reach an ALTREP class method (length, data pointers) or allocate run under
/// a guard and throw; the rest (type tests, reading a CHARSXP's bytes) cannot raise.
extension RSession {
    /// The vector type of `object`.
    public func vectorType(of object: SEXP) -> RVectorType {
        switch pb_r_type(object) {
        case NILSXP: return .null
        case LGLSXP: return .logical
        case INTSXP: return .integer
        case REALSXP: return .double
        case CPLXSXP: return .complex
        case STRSXP: return .character
        case VECSXP: return .list
        case RAWSXP: return .raw
        default: return .other(typeName(of: object))
        }
    }

    /// Allocates a vector of `type` (logical, integer, double, character or list) with `length`
    /// elements, kept alive for the session.
    public func allocate(_ type: RVectorType, length: Int, purpose: String = "allocation") throws -> SEXP {
        let code: Int32
        switch type {
        case .logical: code = LGLSXP
        case .integer: code = INTSXP
        case .double: code = REALSXP
        case .complex: code = CPLXSXP
        case .character: code = STRSXP
        case .list: code = VECSXP
        case .raw: code = RAWSXP
        case .null, .other: throw RError.conversion("cannot allocate an R vector of type \(type)")
        }
        return try allocate(code, length: length, purpose: purpose)
    }

    /// R's `typeof()` name for `object` ("double", "closure", ...).
    public func typeName(of object: SEXP) -> String {
        String(cString: pb_r_type_name(object))
    }

    /// The number of elements of `object` (an ALTREP class computes it in a method that may raise).
    public func length(of object: SEXP) throws -> Int {
        var length: R_xlen_t = 0
        guard pb_r_length(object, &length) != 0 else { throw failure("reading a vector's length") }
        return Int(length)
    }

    /// Element `index` of the list `list`.
    public func element(of list: SEXP, at index: Int) throws -> SEXP {
        guard let element = pb_r_list_element(list, R_xlen_t(index)) else {
            throw RError.conversion("element \(index + 1) of a \(typeName(of: list)) is not a list element")
        }
        return element
    }

    /// Sets element `index` of the list `list` to `value`.
    public func setElement(of list: SEXP, at index: Int, to value: SEXP) throws {
        guard pb_r_set_list_element(list, R_xlen_t(index), value) != 0 else { throw failure("filling a list") }
    }

    /// Sets element `index` of the character vector `vector` to the CHARSXP `value`.
    public func setString(of vector: SEXP, at index: Int, to value: SEXP) throws {
        guard pb_r_set_string_element(vector, R_xlen_t(index), value) != 0 else { throw failure("filling a character vector") }
    }

    /// The values of a logical, integer, double or raw vector, read-only. ALTREP vectors
    /// (compact sequences, other packages' classes) are materialised under a guard. Nil only for
    /// an empty vector without storage.
    public func readOnlyValues<T>(of vector: SEXP, as type: T.Type) throws -> UnsafePointer<T>? {
        try checkElementWidth(vector, T.self)
        var data: UnsafeRawPointer? = nil
        guard pb_r_data(vector, 0, &data) != 0 else { throw failure("reading a vector's values") }
        return data?.assumingMemoryBound(to: T.self)
    }

    /// The values of a vector this session allocated, for filling. Never use on a vector that
    /// R code may also see: R's values are immutable once shared.
    public func writableValues<T>(of vector: SEXP, as type: T.Type) throws -> UnsafeMutablePointer<T> {
        try checkElementWidth(vector, T.self)
        var data: UnsafeRawPointer? = nil
        guard pb_r_data(vector, 1, &data) != 0 else { throw failure("writing a vector's values") }
        guard let data else {
            // Only an empty vector may lack storage; nothing is ever written through this pointer.
            guard try length(of: vector) == 0 else { throw RError.internalCall(operation: "writing a vector's values", message: "R returned no data pointer") }
            return UnsafeMutablePointer<T>(bitPattern: MemoryLayout<T>.alignment)!
        }
        return UnsafeMutableRawPointer(mutating: data).assumingMemoryBound(to: T.self)
    }

    private func checkElementWidth<T>(_ vector: SEXP, _: T.Type) throws {
        let width: Int
        switch pb_r_type(vector) {
        case LGLSXP, INTSXP: width = 4
        case REALSXP: width = 8
        case RAWSXP: width = 1
        default: throw RError.conversion("a \(typeName(of: vector)) vector has no fixed-width values")
        }
        guard MemoryLayout<T>.stride == width else {
            throw RError.conversion("a \(typeName(of: vector)) vector holds \(width)-byte values, not \(MemoryLayout<T>.stride)-byte ones")
        }
    }

    /// The CHARSXP elements of a character vector (materialising ALTREP strings under a guard).
    public func stringElements(of vector: SEXP) throws -> UnsafePointer<SEXP?> {
        guard pb_r_type(vector) == STRSXP else {
            throw RError.conversion("expected a character vector, found \(typeName(of: vector))")
        }
        var data: UnsafeRawPointer? = nil
        guard pb_r_data(vector, 0, &data) != 0, let data else { throw failure("reading a character vector") }
        return data.assumingMemoryBound(to: SEXP?.self)
    }

    /// The bytes of one CHARSXP (an element of a character vector); empty for anything else.
    public func bytes(ofString string: SEXP) -> UnsafeBufferPointer<UInt8> {
        var length: R_xlen_t = 0
        guard let bytes = pb_r_char_bytes(string, &length) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: UnsafeRawPointer(bytes).assumingMemoryBound(to: UInt8.self), count: Int(length))
    }

    /// R's `NA_character_` (compare CHARSXPs with it by identity).
    public var naString: SEXP { pb_r_na_string() }
    /// R's `NA_integer_` (also logical `NA`): `INT_MIN`.
    public var naInteger: Int32 { pb_r_na_int() }
    /// R's `NA_real_`: one NaN payload, distinct from other NaNs.
    public var naReal: Double { pb_r_na_real() }

    /// `vector` with every element in UTF-8: itself when nothing needs translating. Invalid
    /// UTF-8 throws `RError.invalidString` with the row.
    public func utf8Strings(_ vector: SEXP) throws -> SEXP {
        var utf8: SEXP? = nil
        guard pb_r_strings_as_utf8(vector, &utf8) != 0, let utf8 else { throw failure("translating strings to UTF-8") }
        return try protect(utf8)
    }

    /// A character vector from Arrow-style string storage (see `pb_r_strings_from_offsets`):
    /// `offsets` hold int32 (or int64 when `wide`) positions into `data`; a clear validity bit is
    /// `NA`. Invalid UTF-8 or a NUL byte throws `RError.invalidString` with the row.
    public func makeStrings(offsets: UnsafeRawPointer?, wide: Bool, data: UnsafePointer<UInt8>,
                            validity: UnsafePointer<UInt8>?, first: Int, count: Int) throws -> SEXP {
        var result: SEXP? = nil
        guard pb_r_strings_from_offsets(offsets, wide ? 1 : 0, data, validity, Int64(first), Int64(count), &result) != 0,
              let result else { throw failure("making a character vector") }
        return try protect(result)
    }

    /// A character vector from separately stored UTF-8 strings; a negative length is `NA`.
    /// Invalid UTF-8 or a NUL byte throws `RError.invalidString` with the row.
    public func makeStrings(pointers: [UnsafePointer<CChar>?], lengths: [Int32]) throws -> SEXP {
        precondition(pointers.count == lengths.count, "one length per string")
        var result: SEXP? = nil
        let empty: CChar = 0
        let status = withUnsafePointer(to: empty) { emptyPointer in
            let filled: [UnsafePointer<CChar>?] = pointers.map { $0 ?? emptyPointer }
            return filled.withUnsafeBufferPointer { starts in
                lengths.withUnsafeBufferPointer { counts in
                    pb_r_strings_from_pointers(starts.baseAddress, counts.baseAddress, R_xlen_t(pointers.count), &result)
                }
            }
        }
        guard status != 0, let result else { throw failure("making a character vector") }
        return try protect(result)
    }

    /// A read-only double (`isDouble`) or integer vector over foreign memory, without copying.
    /// `owner` is retained until R collects the vector; then it is released on another thread.
    public func sharedVector(doubles isDouble: Bool, values: UnsafeRawPointer, count: Int,
                             owner: AnyObject) throws -> SEXP {
        let context = Unmanaged<AnyObject>.passRetained(owner).toOpaque()
        var result: SEXP? = nil
        guard pb_r_foreign_vector(SEXPTYPE(isDouble ? REALSXP : INTSXP), values, R_xlen_t(count), context, &result) != 0,
              let result else {
            // The shim registers R's finaliser last, so on failure the context is still ours alone.
            Unmanaged<AnyObject>.fromOpaque(context).release()
            throw failure("sharing a vector with R")
        }
        return try protect(result)
    }

    /// Whether `object` is one of Polybridge's zero-copy vectors over foreign memory.
    public func isSharedVector(_ object: SEXP) -> Bool {
        pb_r_is_foreign_vector(object) != 0
    }

    /// Sets attribute `name` of `object` to `value`.
    public func setAttribute(_ object: SEXP, _ name: String, _ value: SEXP) throws {
        try setAttribute(object, try symbol(name), value, name: name)
    }

    func setAttribute(_ object: SEXP, _ symbol: SEXP, _ value: SEXP, name: String) throws {
        guard pb_r_set_attribute(object, symbol, value) != 0 else { throw failure("setting attribute \(name)") }
    }

    /// The attribute `name` of `object`, or nil when it is not set. Compact row names are
    /// expanded (which allocates, under a guard).
    public func attribute(_ object: SEXP, _ name: String) throws -> SEXP? {
        try attribute(object, symbol: try symbol(name), name: name)
    }

    func attribute(_ object: SEXP, symbol: SEXP, name: String) throws -> SEXP? {
        var value: SEXP? = nil
        guard pb_r_get_attribute(object, symbol, &value) != 0 else { throw failure("reading attribute \(name)") }
        guard let value, value != pb_r_nil() else { return nil }
        return try protect(value)
    }
}

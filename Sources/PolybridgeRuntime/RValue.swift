/// A Swift copy of an R value: NULL, an atomic vector, or a list.
///
/// `nil` elements are R's `NA`. For doubles, `NA_real_` is `nil` while a plain `NaN` stays
/// `Double.nan`, matching R's `is.na` versus `is.nan` distinction.
public enum RValue: Sendable, Equatable {
    /// R's `NULL`.
    case null
    /// A logical vector (`TRUE`, `FALSE`, `NA`).
    case logical([Bool?])
    /// An integer vector; R's `NA_integer_` is `nil`.
    case integer([Int32?])
    /// A double vector; `NA_real_` is `nil`, `NaN` stays `.nan`.
    case double([Double?])
    /// A character vector; `NA_character_` is `nil`. Strings are converted to UTF-8.
    case character([String?])
    /// A generic vector (R list), with its names if it has any.
    case list([RValue], names: [String]?)
    /// Any other R object, described by `typeof()` and its class, e.g. a closure or environment.
    case other(type: String, classes: [String])

    /// The number of elements (0 for `NULL` and other objects).
    public var count: Int {
        switch self {
        case .null, .other: return 0
        case .logical(let v): return v.count
        case .integer(let v): return v.count
        case .double(let v): return v.count
        case .character(let v): return v.count
        case .list(let v, _): return v.count
        }
    }

    /// R's name for the kind of value, as `typeof()` reports it.
    public var typeName: String {
        switch self {
        case .null: return "NULL"
        case .logical: return "logical"
        case .integer: return "integer"
        case .double: return "double"
        case .character: return "character"
        case .list: return "list"
        case .other(let type, _): return type
        }
    }
}

/// A Swift type that an R value can be decoded into.
public protocol RDecodable: Sendable {
    /// Decodes `value`, throwing `RError.conversion` when its type or length does not fit.
    init(rValue value: RValue) throws
}

/// A Swift value that can be passed to R.
public protocol REncodable: Sendable {
    /// The R value this Swift value becomes.
    var rValue: RValue { get }
}

extension RValue: RDecodable, REncodable {
    /// Returns the value itself.
    public init(rValue value: RValue) { self = value }
    /// The value itself.
    public var rValue: RValue { self }
}

private func scalar<T>(_ values: [T?], _ type: String) throws -> T {
    guard values.count == 1 else {
        throw RError.conversion("expected a length-1 \(type) vector, got length \(values.count)")
    }
    guard let value = values[0] else {
        throw RError.conversion("expected a non-NA \(type) value, got NA")
    }
    return value
}

extension Double: RDecodable, REncodable {
    /// Decodes a length-1 double or integer vector without `NA`.
    public init(rValue value: RValue) throws {
        switch value {
        case .double(let v): self = try scalar(v, "double")
        case .integer(let v): self = Double(try scalar(v, "integer"))
        default: throw RError.conversion("expected a double, got \(value.typeName)")
        }
    }
    /// A length-1 double vector.
    public var rValue: RValue { .double([self]) }
}

extension Int: RDecodable, REncodable {
    /// Decodes a length-1 integer vector, or a double that holds an exact integer.
    public init(rValue value: RValue) throws {
        switch value {
        case .integer(let v): self = Int(try scalar(v, "integer"))
        case .double(let v):
            let d = try scalar(v, "double")
            guard let exact = Int(exactly: d) else {
                throw RError.conversion("expected an integer, got the double \(d)")
            }
            self = exact
        default: throw RError.conversion("expected an integer, got \(value.typeName)")
        }
    }
    /// A length-1 integer vector when it fits in R's 32-bit integers, else a double.
    public var rValue: RValue {
        if let small = Int32(exactly: self), small != Int32.min { return .integer([small]) }
        return .double([Double(self)])
    }
}

extension Int32: RDecodable, REncodable {
    /// Decodes a length-1 integer vector without `NA`.
    public init(rValue value: RValue) throws {
        guard case .integer(let v) = value else {
            throw RError.conversion("expected an integer, got \(value.typeName)")
        }
        self = try scalar(v, "integer")
    }
    /// A length-1 integer vector (`Int32.min` is R's `NA_integer_`).
    public var rValue: RValue { .integer([self]) }
}

extension Bool: RDecodable, REncodable {
    /// Decodes a length-1 logical vector without `NA`.
    public init(rValue value: RValue) throws {
        guard case .logical(let v) = value else {
            throw RError.conversion("expected a logical, got \(value.typeName)")
        }
        self = try scalar(v, "logical")
    }
    /// A length-1 logical vector.
    public var rValue: RValue { .logical([self]) }
}

extension String: RDecodable, REncodable {
    /// Decodes a length-1 character vector without `NA`.
    public init(rValue value: RValue) throws {
        guard case .character(let v) = value else {
            throw RError.conversion("expected a character string, got \(value.typeName)")
        }
        self = try scalar(v, "character")
    }
    /// A length-1 character vector.
    public var rValue: RValue { .character([self]) }
}

extension Array: RDecodable where Element: RVectorElement {
    /// Decodes a whole atomic vector; fails on `NA` (use an array of optionals to keep them).
    public init(rValue value: RValue) throws {
        let optionals = try Element.optionals(from: value)
        var result: [Element] = []
        result.reserveCapacity(optionals.count)
        for (index, element) in optionals.enumerated() {
            guard let element else {
                throw RError.conversion("element \(index + 1) is NA; decode as [\(Element.self)?] to keep NA")
            }
            result.append(element)
        }
        self = result
    }
}

extension Array: REncodable where Element: RVectorElement {
    /// An atomic vector without `NA`.
    public var rValue: RValue { Element.vector(self.map { Optional($0) }) }
}

/// An element type of an R atomic vector: `Double`, `Int32`, `Bool` or `String`.
public protocol RVectorElement: Sendable {
    /// The elements of `value` with `NA` as `nil`, or a conversion error for the wrong type.
    static func optionals(from value: RValue) throws -> [Self?]
    /// An R vector holding `elements`.
    static func vector(_ elements: [Self?]) -> RValue
}

extension Double: RVectorElement {
    /// Doubles from a double or integer vector.
    public static func optionals(from value: RValue) throws -> [Double?] {
        switch value {
        case .double(let v): return v
        case .integer(let v): return v.map { $0.map(Double.init) }
        default: throw RError.conversion("expected a double vector, got \(value.typeName)")
        }
    }
    /// A double vector.
    public static func vector(_ elements: [Double?]) -> RValue { .double(elements) }
}

extension Int32: RVectorElement {
    /// Integers from an integer vector.
    public static func optionals(from value: RValue) throws -> [Int32?] {
        guard case .integer(let v) = value else {
            throw RError.conversion("expected an integer vector, got \(value.typeName)")
        }
        return v
    }
    /// An integer vector.
    public static func vector(_ elements: [Int32?]) -> RValue { .integer(elements) }
}

extension Bool: RVectorElement {
    /// Booleans from a logical vector.
    public static func optionals(from value: RValue) throws -> [Bool?] {
        guard case .logical(let v) = value else {
            throw RError.conversion("expected a logical vector, got \(value.typeName)")
        }
        return v
    }
    /// A logical vector.
    public static func vector(_ elements: [Bool?]) -> RValue { .logical(elements) }
}

extension String: RVectorElement {
    /// Strings from a character vector.
    public static func optionals(from value: RValue) throws -> [String?] {
        guard case .character(let v) = value else {
            throw RError.conversion("expected a character vector, got \(value.typeName)")
        }
        return v
    }
    /// A character vector.
    public static func vector(_ elements: [String?]) -> RValue { .character(elements) }
}

extension Optional: RDecodable where Wrapped: RVectorElement {
    /// Decodes a length-1 vector whose element may be `NA` (`nil`).
    public init(rValue value: RValue) throws {
        let values = try Wrapped.optionals(from: value)
        guard values.count == 1 else {
            throw RError.conversion("expected a length-1 vector, got length \(values.count)")
        }
        self = values[0]
    }
}

extension Optional: RVectorElement where Wrapped: RVectorElement {
    /// Elements that may be `NA`: decoding `[Double?]` keeps `NA` as `nil` instead of failing.
    public static func optionals(from value: RValue) throws -> [Wrapped??] {
        try Wrapped.optionals(from: value).map { .some($0) }
    }
    /// A vector whose `nil` elements are `NA`.
    public static func vector(_ elements: [Wrapped??]) -> RValue {
        Wrapped.vector(elements.map { $0 ?? nil })
    }
}

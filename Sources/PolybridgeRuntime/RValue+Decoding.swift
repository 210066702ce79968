import Foundation

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
    /// Decodes a length-1 double or integer vector without `NA` (names are ignored).
    public init(rValue value: RValue) throws {
        switch value.unstructured {
        case .double(let v): self = try scalar(v, "double")
        case .integer(let v): self = Double(try scalar(v, "integer"))
        default: throw RError.conversion("expected a double, got \(value.kindDescription)")
        }
    }
    /// A length-1 double vector.
    public var rValue: RValue { .double([self]) }
}

extension Int: RDecodable, REncodable {
    /// Decodes a length-1 integer vector, or a double that holds an exact integer.
    public init(rValue value: RValue) throws {
        switch value.unstructured {
        case .integer(let v): self = Int(try scalar(v, "integer"))
        case .double(let v):
            let d = try scalar(v, "double")
            guard let exact = Int(exactly: d) else {
                throw RError.conversion("expected an integer, got the double \(d)")
            }
            self = exact
        default: throw RError.conversion("expected an integer, got \(value.kindDescription)")
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
        guard case .integer(let v) = value.unstructured else {
            throw RError.conversion("expected an integer, got \(value.kindDescription)")
        }
        self = try scalar(v, "integer")
    }
    /// A length-1 integer vector (`Int32.min` is R's `NA_integer_`).
    public var rValue: RValue { .integer([self]) }
}

extension Bool: RDecodable, REncodable {
    /// Decodes a length-1 logical vector without `NA`.
    public init(rValue value: RValue) throws {
        guard case .logical(let v) = value.unstructured else {
            throw RError.conversion("expected a logical, got \(value.kindDescription)")
        }
        self = try scalar(v, "logical")
    }
    /// A length-1 logical vector.
    public var rValue: RValue { .logical([self]) }
}

extension String: RDecodable, REncodable {
    /// Decodes a length-1 character vector (or factor, as its level) without `NA`.
    public init(rValue value: RValue) throws {
        self = try scalar(try String.optionals(from: value), "character")
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

/// An element type of an R atomic vector: `Double`, `Int32`, `Bool`, `String` or `Date`.
public protocol RVectorElement: Sendable {
    /// The elements of `value` with `NA` as `nil`, or a conversion error for the wrong type.
    static func optionals(from value: RValue) throws -> [Self?]
    /// An R vector holding `elements`.
    static func vector(_ elements: [Self?]) -> RValue
}

extension Double: RVectorElement {
    /// Doubles from a double or integer vector (names and `dim` are dropped).
    public static func optionals(from value: RValue) throws -> [Double?] {
        switch value.unstructured {
        case .double(let v): return v
        case .integer(let v): return v.map { $0.map(Double.init) }
        default: throw RError.conversion("expected a double vector, got \(value.kindDescription)")
        }
    }
    /// A double vector.
    public static func vector(_ elements: [Double?]) -> RValue { .double(elements) }
}

extension Int32: RVectorElement {
    /// Integers from an integer vector (names and `dim` are dropped; a factor is refused, its
    /// codes are in `.factor`).
    public static func optionals(from value: RValue) throws -> [Int32?] {
        guard case .integer(let v) = value.unstructured else {
            throw RError.conversion("expected an integer vector, got \(value.kindDescription)")
        }
        return v
    }
    /// An integer vector.
    public static func vector(_ elements: [Int32?]) -> RValue { .integer(elements) }
}

extension Bool: RVectorElement {
    /// Booleans from a logical vector (names and `dim` are dropped).
    public static func optionals(from value: RValue) throws -> [Bool?] {
        guard case .logical(let v) = value.unstructured else {
            throw RError.conversion("expected a logical vector, got \(value.kindDescription)")
        }
        return v
    }
    /// A logical vector.
    public static func vector(_ elements: [Bool?]) -> RValue { .logical(elements) }
}

extension String: RVectorElement {
    /// Strings from a character vector, or a factor's levels element by element (what
    /// `as.character(f)` gives); names and `dim` are dropped.
    public static func optionals(from value: RValue) throws -> [String?] {
        if case .character(let v) = value.unstructured { return v }
        if let labels = value.factorLabels { return labels }
        throw RError.conversion("expected a character vector, got \(value.kindDescription)")
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

extension Date: RDecodable, REncodable {
    /// Decodes a length-1 `POSIXct` (its instant) or `Date` (midnight UTC of that day) without `NA`.
    public init(rValue value: RValue) throws {
        self = try scalar(try Date.optionals(from: value), "date-time")
    }
    /// A length-1 `POSIXct` shown in UTC.
    public var rValue: RValue { .dateTime(seconds: [timeIntervalSince1970], timeZone: "UTC") }
}

extension Date: RVectorElement {
    /// Instants from a `POSIXct` vector, or midnights (UTC) from a `Date` vector; `NA` and `NaN`
    /// are `nil`.
    public static func optionals(from value: RValue) throws -> [Date?] {
        switch value.unstructured {
        case .dateTime(let seconds, _):
            return seconds.map { $0.flatMap { $0.isNaN ? nil : Date(timeIntervalSince1970: $0) } }
        case .date(let days):
            return days.map { $0.flatMap { $0.isNaN ? nil : Date(timeIntervalSince1970: $0 * 86_400) } }
        default:
            throw RError.conversion("expected a POSIXct or Date vector, got \(value.kindDescription)")
        }
    }
    /// A `POSIXct` vector shown in UTC.
    public static func vector(_ elements: [Date?]) -> RValue {
        .dateTime(seconds: elements.map { $0?.timeIntervalSince1970 }, timeZone: "UTC")
    }
}

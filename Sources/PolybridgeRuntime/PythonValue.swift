/// A Swift copy of a Python value: None, a scalar, or a list/tuple/dict of them.
public enum PythonValue: Sendable, Equatable {
    /// `None`.
    case none
    /// A `bool`.
    case bool(Bool)
    /// An `int` that fits in 64 bits.
    case int(Int64)
    /// A `float`.
    case float(Double)
    /// A `str`.
    case string(String)
    /// A `list` or `tuple`.
    case list([PythonValue])
    /// A `dict` with string keys, in insertion order.
    case dictionary([(key: String, value: PythonValue)])
    /// Any other object, described by its type name and `repr()`.
    case other(type: String, repr: String)

    /// Compares element-wise; dictionaries compare in order.
    public static func == (lhs: PythonValue, rhs: PythonValue) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.float(let a), .float(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): return a == b
        case (.list(let a), .list(let b)): return a == b
        case (.dictionary(let a), .dictionary(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.other(let t1, let r1), .other(let t2, let r2)): return t1 == t2 && r1 == r2
        default: return false
        }
    }
}

/// A Swift type that a Python value can be decoded into.
public protocol PythonDecodable: Sendable {
    /// Decodes `value`, throwing `PythonError.conversion` when it does not fit.
    init(pythonValue value: PythonValue) throws
}

/// A Swift value that can be passed to Python.
public protocol PythonEncodable: Sendable {
    /// The Python value this Swift value becomes.
    var pythonValue: PythonValue { get }
}

extension PythonValue: PythonDecodable, PythonEncodable {
    /// The value itself.
    public init(pythonValue value: PythonValue) { self = value }
    /// The value itself.
    public var pythonValue: PythonValue { self }
}

extension Int: PythonDecodable, PythonEncodable {
    /// Decodes an `int` (not a `bool`).
    public init(pythonValue value: PythonValue) throws {
        guard case .int(let v) = value, let exact = Int(exactly: v) else {
            throw PythonError.conversion("expected an int, got \(value)")
        }
        self = exact
    }
    /// An `int`.
    public var pythonValue: PythonValue { .int(Int64(self)) }
}

extension Double: PythonDecodable, PythonEncodable {
    /// Decodes a `float` or an `int`.
    public init(pythonValue value: PythonValue) throws {
        switch value {
        case .float(let v): self = v
        case .int(let v): self = Double(v)
        default: throw PythonError.conversion("expected a float, got \(value)")
        }
    }
    /// A `float`.
    public var pythonValue: PythonValue { .float(self) }
}

extension Bool: PythonDecodable, PythonEncodable {
    /// Decodes a `bool`.
    public init(pythonValue value: PythonValue) throws {
        guard case .bool(let v) = value else { throw PythonError.conversion("expected a bool, got \(value)") }
        self = v
    }
    /// A `bool`.
    public var pythonValue: PythonValue { .bool(self) }
}

extension String: PythonDecodable, PythonEncodable {
    /// Decodes a `str`.
    public init(pythonValue value: PythonValue) throws {
        guard case .string(let v) = value else { throw PythonError.conversion("expected a str, got \(value)") }
        self = v
    }
    /// A `str`.
    public var pythonValue: PythonValue { .string(self) }
}

extension Array: PythonDecodable where Element: PythonDecodable {
    /// Decodes a `list` or `tuple` element by element.
    public init(pythonValue value: PythonValue) throws {
        guard case .list(let items) = value else { throw PythonError.conversion("expected a list, got \(value)") }
        self = try items.map { try Element(pythonValue: $0) }
    }
}

extension Array: PythonEncodable where Element: PythonEncodable {
    /// A `list`.
    public var pythonValue: PythonValue { .list(map(\.pythonValue)) }
}

extension Optional: PythonDecodable where Wrapped: PythonDecodable {
    /// `None` becomes `nil`.
    public init(pythonValue value: PythonValue) throws {
        self = value == .none ? nil : try Wrapped(pythonValue: value)
    }
}

/// A Swift copy of an R value, keeping what the value means in R: NULL, an atomic vector, a
/// list, a factor, dates and date-times, and the names, `dim` and `dimnames` around them.
///
/// `nil` elements are R's `NA`. For doubles (and the days and seconds of dates and times),
/// `NA_real_` is `nil` while a plain `NaN` stays `Double.nan`, matching R's `is.na` versus
/// `is.nan` distinction.
///
/// Names, `dim` and `dimnames` of atomic vectors, factors, dates and times wrap the value in
/// `.structure`, the way R's `structure()` adds them; a list keeps its names in `.list` itself.
/// `c(a = 1, b = 2)` is `.structure(.double([1, 2]), names: ["a", "b"])` and
/// `matrix(1:4, 2)` is `.structure(.integer([1, 2, 3, 4]), dim: [2, 2])`.
/// Printing a value (`description`) gives what R's `print()` shows.
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
    /// A generic vector (R list; a data.frame reads as the list of its columns), with its names
    /// if it has any (an `NA` name is `nil`).
    case list([RValue], names: [String?]? = nil)
    /// A factor: `codes` are R's 1-based codes into `levels` (what `as.integer(f)` gives), `nil`
    /// for `NA`; `ordered` for an ordered factor (`ordered()`, class `c("ordered", "factor")`).
    /// A level may be `NA` (`addNA()`); every code is `nil` or in `1...levels.count`.
    case factor(levels: [String?], codes: [Int32?], ordered: Bool = false)
    /// A `Date` vector: days since 1970-01-01 (`unclass(d)`), `nil` for `NA`. R stores days as
    /// doubles, so a day may be fractional (`mean()` of two dates) or infinite.
    case date(days: [Double?])
    /// A `POSIXct` vector: seconds since 1970-01-01 00:00 UTC, `nil` for `NA`, and the time zone
    /// it is shown in (the `tzone` attribute: `nil` when absent, `""` for the session's local zone).
    case dateTime(seconds: [Double?], timeZone: String? = nil)
    /// A value with the attributes that give it a shape, as R's `structure()` sets them: element
    /// names, `dim` (a matrix has two dimensions), and `dimnames` (one optional name vector per
    /// dimension). The names of `dimnames` themselves are not kept.
    indirect case structure(RValue, names: [String?]? = nil, dim: [Int]? = nil, dimnames: [[String?]?]? = nil)
    /// Any other R object, described by `typeof()` and its class, e.g. a closure or environment.
    ///
    /// Also an object whose attributes contradict its meaning, so that it cannot be read
    /// faithfully: a factor whose codes fall outside its levels or whose levels are not
    /// strings, a `Date` or `POSIXct` that is not numeric, a `dim` or `dimnames` that does not
    /// match the length. R itself refuses to print most of these ("malformed factor").
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
        case .factor(_, let codes, _): return codes.count
        case .date(let days): return days.count
        case .dateTime(let seconds, _): return seconds.count
        case .structure(let value, _, _, _): return value.count
        }
    }

    /// R's name for how the value is stored, as `typeof()` reports it ("integer" for a factor,
    /// "double" for dates and times).
    public var typeName: String {
        switch self {
        case .null: return "NULL"
        case .logical: return "logical"
        case .integer, .factor: return "integer"
        case .double, .date, .dateTime: return "double"
        case .character: return "character"
        case .list: return "list"
        case .structure(let value, _, _, _): return value.typeName
        case .other(let type, _): return type
        }
    }

    /// R's `class()` of the value: `"factor"`, `"Date"`, `c("matrix", "array")`, `"numeric"`...
    public var classNames: [String] {
        switch self {
        case .null: return ["NULL"]
        case .logical: return ["logical"]
        case .integer: return ["integer"]
        case .double: return ["numeric"]
        case .character: return ["character"]
        case .list: return ["list"]
        case .factor(_, _, let ordered): return ordered ? ["ordered", "factor"] : ["factor"]
        case .date: return ["Date"]
        case .dateTime: return ["POSIXct", "POSIXt"]
        case .structure(let value, _, let dim, _):
            guard let dim, value.classNames.count == 1, ["logical", "integer", "numeric", "character", "list"].contains(value.classNames[0]) else {
                return value.classNames
            }
            return dim.count == 2 ? ["matrix", "array"] : ["array"]
        case .other(let type, let classes): return classes.isEmpty ? [type] : classes
        }
    }

    /// The value without the names, `dim` and `dimnames` that `.structure` adds (a list keeps
    /// its names): what R's `as.vector()` leaves of a named vector or a matrix.
    public var unstructured: RValue {
        if case .structure(let value, _, _, _) = self { return value.unstructured }
        return self
    }

    /// The element names (`names(x)`): a list's names or those `.structure` adds; nil when none.
    public var names: [String?]? {
        switch self {
        case .list(_, let names): return names
        case .structure(let value, let names, _, _): return names ?? value.names
        default: return nil
        }
    }

    /// The dimensions (`dim(x)`), nil for a value that is not a matrix or array.
    public var dim: [Int]? {
        if case .structure(_, _, let dim, _) = self { return dim }
        return nil
    }

    /// The dimension names (`dimnames(x)`): one entry per dimension, nil where it has none.
    public var dimnames: [[String?]?]? {
        if case .structure(_, _, _, let dimnames) = self { return dimnames }
        return nil
    }

    /// For a factor, each element's level (what `as.character(f)` gives), `nil` for `NA`;
    /// nil for anything that is not a factor.
    public var factorLabels: [String?]? {
        guard case .factor(let levels, let codes, _) = unstructured else { return nil }
        return codes.map { code in
            guard let code, code >= 1, Int(code) <= levels.count else { return nil }
            return levels[Int(code) - 1]
        }
    }

    /// What the value is, for error messages: "a double vector", "a factor", "a Date vector".
    var kindDescription: String {
        switch self {
        case .null: return "NULL"
        case .factor(_, _, let ordered): return ordered ? "an ordered factor" : "a factor"
        case .date: return "a Date vector"
        case .dateTime: return "a POSIXct vector"
        case .list: return "a list"
        case .structure(let value, _, let dim, _):
            guard let dim else { return "a named " + value.kindDescription.dropFirst(value.kindDescription.hasPrefix("an ") ? 3 : 2) }
            return (dim.count == 2 ? "a matrix of " : "an array of ") + value.typeName
        case .other(let type, let classes):
            return classes.isEmpty ? "an R \(type)" : "an R \(type) of class \(classes.joined(separator: "/"))"
        default: return "a \(typeName) vector"
        }
    }
}

import CR

/// `RValue` ↔ R objects on the R thread: atomic vectors and lists, factors, `Date`s and
/// `POSIXct`s, with their names, `dim` and `dimnames`. Every R API call goes through the
/// session's guarded accessors.
extension RSession {
    /// Copies `object` into a Swift `RValue`, keeping what it means in R: a factor's levels and
    /// codes, a `Date`'s days, a `POSIXct`'s seconds and time zone, names, `dim` and `dimnames`.
    ///
    /// Other objects come back described as `.other`, and so does an object whose attributes
    /// contradict each other (a factor code outside its levels, levels that are not strings, a
    /// `dim` that does not match the length): such a value is never read as something it is not.
    public func read(_ object: SEXP) throws -> RValue {
        do {
            return try readValue(object)
        } catch is MalformedRObject {
            return .other(type: typeName(of: object), classes: try classes(of: object))
        }
    }

    private func readValue(_ object: SEXP) throws -> RValue {
        let type = pb_r_type(object)
        switch type {
        case NILSXP: return .null
        case LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP: break
        default: return .other(type: typeName(of: object), classes: try classes(of: object))
        }
        // Most values have no attributes at all: one pointer test, no R calls.
        guard pb_r_has_attributes(object) != 0 else { return try readStorage(object, names: nil) }
        let count = try length(of: object)
        let names = try readNames(object, count: count)
        let classes = try classes(of: object)
        let value: RValue
        if classes.contains("factor") {
            value = try readFactor(object, ordered: classes.contains("ordered"))
        } else if classes.contains("Date") {
            value = .date(days: try readNumbers(object))
        } else if classes.contains("POSIXct") {
            value = .dateTime(seconds: try readNumbers(object), timeZone: try readTimeZone(object))
        } else if type == VECSXP {
            // A list keeps its names itself; only a `dim` wraps it.
            return try shaped(object, try readStorage(object, names: names), count: count, names: nil)
        } else {
            value = try readStorage(object, names: nil)
        }
        return try shaped(object, value, count: count, names: names)
    }

    /// The values of a plain vector or list, ignoring its attributes.
    private func readStorage(_ object: SEXP, names: [String?]?) throws -> RValue {
        switch pb_r_type(object) {
        case LGLSXP:
            let na = pb_r_na_int()
            return .logical(try bufferOfValues(object, as: Int32.self).map { $0 == na ? nil : $0 != 0 })
        case INTSXP:
            let na = pb_r_na_int()
            return .integer(try bufferOfValues(object, as: Int32.self).map { $0 == na ? nil : $0 })
        case REALSXP:
            return .double(try bufferOfValues(object, as: Double.self).map { pb_r_is_na_real($0) != 0 ? nil : $0 })
        case STRSXP:
            return .character(try readStrings(object))
        case VECSXP:
            let count = try length(of: object)
            var elements: [RValue] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                elements.append(try read(try element(of: object, at: index)))
            }
            return .list(elements, names: names)
        default:
            return .other(type: typeName(of: object), classes: try classes(of: object))
        }
    }

    /// `value` wrapped in `.structure` when the object has names or a `dim`.
    private func shaped(_ object: SEXP, _ value: RValue, count: Int, names: [String?]?) throws -> RValue {
        guard let dimObject = try attribute(object, symbol: pb_r_dim_symbol(), name: "dim") else {
            return names.map { .structure(value, names: $0) } ?? value
        }
        let dim = try readDimensions(dimObject, count: count)
        var dimnames: [[String?]?]?
        if let dimnamesObject = try attribute(object, symbol: pb_r_dimnames_symbol(), name: "dimnames") {
            dimnames = try readDimensionNames(dimnamesObject, dim: dim)
        }
        return .structure(value, names: names, dim: dim, dimnames: dimnames)
    }

    private func readNames(_ object: SEXP, count: Int) throws -> [String?]? {
        guard let names = try attribute(object, symbol: pb_r_names_symbol(), name: "names") else { return nil }
        guard pb_r_type(names) == STRSXP, try length(of: names) == count else {
            throw MalformedRObject(reason: "names that are not one string per element")
        }
        return try readStrings(names)
    }

    private func readFactor(_ object: SEXP, ordered: Bool) throws -> RValue {
        guard pb_r_type(object) == INTSXP else { throw MalformedRObject(reason: "a factor stored as \(typeName(of: object))") }
        guard let levelsObject = try attribute(object, symbol: pb_r_levels_symbol(), name: "levels"),
              pb_r_type(levelsObject) == STRSXP else {
            throw MalformedRObject(reason: "a factor whose levels are not strings")
        }
        let levels = try readStrings(levelsObject)
        let na = pb_r_na_int()
        var codes: [Int32?] = []
        for code in try bufferOfValues(object, as: Int32.self) {
            if code == na { codes.append(nil); continue }
            guard code >= 1, Int(code) <= levels.count else {
                throw MalformedRObject(reason: "a factor code \(code) outside its \(levels.count) levels")
            }
            codes.append(code)
        }
        return .factor(levels: levels, codes: codes, ordered: ordered)
    }

    /// The numbers of a `Date` or `POSIXct`, stored as doubles or integers.
    private func readNumbers(_ object: SEXP) throws -> [Double?] {
        switch try readStorage(object, names: nil) {
        case .double(let values): return values
        case .integer(let values): return values.map { $0.map(Double.init) }
        default: throw MalformedRObject(reason: "a date or time stored as \(typeName(of: object))")
        }
    }

    private func readTimeZone(_ object: SEXP) throws -> String? {
        guard let zone = try attribute(object, "tzone") else { return nil }
        guard pb_r_type(zone) == STRSXP else { throw MalformedRObject(reason: "a tzone that is not a string") }
        // R writes c("", "CET", "CEST") for local times; the first element names the zone.
        return try readStrings(zone).first ?? nil
    }

    private func readDimensions(_ dimObject: SEXP, count: Int) throws -> [Int] {
        let dim: [Int]
        switch try readStorage(dimObject, names: nil) {
        case .integer(let values): dim = values.compactMap { $0.flatMap { $0 >= 0 ? Int($0) : nil } }
        case .double(let values): dim = values.compactMap { $0.flatMap { $0 >= 0 ? Int(exactly: $0) : nil } }
        default: throw MalformedRObject(reason: "a dim that is not numeric")
        }
        let product = dim.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? -1 : $0 * $1 }
        guard try length(of: dimObject) == dim.count, !dim.isEmpty, product == count else {
            throw MalformedRObject(reason: "a dim that does not match the length \(count)")
        }
        return dim
    }

    private func readDimensionNames(_ dimnamesObject: SEXP, dim: [Int]) throws -> [[String?]?] {
        guard pb_r_type(dimnamesObject) == VECSXP, try length(of: dimnamesObject) == dim.count else {
            throw MalformedRObject(reason: "dimnames that are not one entry per dimension")
        }
        var result: [[String?]?] = []
        for (index, extent) in dim.enumerated() {
            let names = try element(of: dimnamesObject, at: index)
            if pb_r_type(names) == NILSXP { result.append(nil); continue }
            guard pb_r_type(names) == STRSXP, try length(of: names) == extent else {
                throw MalformedRObject(reason: "dimnames that do not match dimension \(index + 1)")
            }
            result.append(try readStrings(names))
        }
        return result
    }

    /// The values of an atomic vector as a buffer (materialising ALTREP vectors under a guard).
    private func bufferOfValues<T>(_ vector: SEXP, as type: T.Type) throws -> UnsafeBufferPointer<T> {
        let count = try length(of: vector)
        guard count > 0, let values = try readOnlyValues(of: vector, as: T.self) else {
            return UnsafeBufferPointer(start: nil, count: 0)
        }
        return UnsafeBufferPointer(start: values, count: count)
    }

    /// Makes an R object from a Swift `RValue`, kept alive for the session.
    ///
    /// A factor gets its levels and class (`c("ordered", "factor")` when ordered), a date its
    /// `Date` class, a date-time `c("POSIXct", "POSIXt")` and its `tzone`. A value R could not
    /// hold throws `RError.conversion`: a factor code outside its levels or a level given twice,
    /// names or `dimnames` whose lengths do not match, a `dim` whose product is not the length.
    /// In `.structure(.list(...), names:)` the structure's names replace the list's.
    public func make(_ value: RValue) throws -> SEXP {
        switch value {
        case .null:
            return null
        case .logical(let elements):
            let vector = try allocate(LGLSXP, length: elements.count)
            let data = try writableValues(of: vector, as: Int32.self)
            for (i, e) in elements.enumerated() { data[i] = e.map { $0 ? 1 : 0 } ?? pb_r_na_int() }
            return vector
        case .integer(let elements):
            let vector = try allocate(INTSXP, length: elements.count)
            let data = try writableValues(of: vector, as: Int32.self)
            for (i, e) in elements.enumerated() { data[i] = e ?? pb_r_na_int() }
            return vector
        case .double(let elements):
            let vector = try allocate(REALSXP, length: elements.count)
            let data = try writableValues(of: vector, as: Double.self)
            for (i, e) in elements.enumerated() { data[i] = e ?? pb_r_na_real() }
            return vector
        case .character(let elements):
            return try makeStrings(elements)
        case .list(let elements, let names):
            let vector = try allocate(VECSXP, length: elements.count)
            for (i, e) in elements.enumerated() { try setElement(of: vector, at: i, to: try make(e)) }
            if let names { try setNames(of: vector, names, count: elements.count) }
            return vector
        case .factor(let levels, let codes, let ordered):
            if let bad = codes.firstIndex(where: { $0.map { $0 < 1 || Int($0) > levels.count } ?? false }) {
                throw RError.conversion("factor code \(codes[bad]!) at element \(bad + 1) is outside its \(levels.count) levels")
            }
            if let duplicate = RSession.firstDuplicate(levels) {
                throw RError.conversion("factor level \(duplicate + 1) (\(levels[duplicate] ?? "NA")) is duplicated")
            }
            let vector = try make(.integer(codes))
            try setAttribute(vector, pb_r_levels_symbol(), try makeStrings(levels), name: "levels")
            try setClasses(vector, ordered ? ["ordered", "factor"] : ["factor"])
            return vector
        case .date(let days):
            let vector = try make(.double(days))
            try setClasses(vector, ["Date"])
            return vector
        case .dateTime(let seconds, let timeZone):
            let vector = try make(.double(seconds))
            try setClasses(vector, ["POSIXct", "POSIXt"])
            if let timeZone { try setAttribute(vector, "tzone", try makeStrings([timeZone])) }
            return vector
        case .structure(let inner, let names, let dim, let dimnames):
            return try makeStructure(inner, names: names, dim: dim, dimnames: dimnames)
        case .other(let type, _):
            throw RError.conversion("cannot make an R \(type) from Swift")
        }
    }

    private func makeStructure(_ inner: RValue, names: [String?]?, dim: [Int]?, dimnames: [[String?]?]?) throws -> SEXP {
        let object = try make(inner)
        let count = inner.count
        if let names { try setNames(of: object, names, count: count) }
        guard let dim else {
            if dimnames != nil { throw RError.conversion("dimnames need a dim") }
            return object
        }
        guard !dim.isEmpty, dim.allSatisfy({ $0 >= 0 && Int32(exactly: $0) != nil }),
              dim.reduce(1, { $0.multipliedReportingOverflow(by: $1).overflow ? -1 : $0 * $1 }) == count else {
            throw RError.conversion("dim \(dim) does not match the length \(count)")
        }
        try setAttribute(object, pb_r_dim_symbol(), try make(.integer(dim.map { Int32($0) })), name: "dim")
        guard let dimnames else { return object }
        guard dimnames.count == dim.count else {
            throw RError.conversion("dimnames has \(dimnames.count) entries for \(dim.count) dimensions")
        }
        let list = try allocate(VECSXP, length: dim.count)
        for (index, names) in dimnames.enumerated() {
            guard let names else { continue }
            guard names.count == dim[index] else {
                throw RError.conversion("dimnames \(index + 1) has \(names.count) names for extent \(dim[index])")
            }
            try setElement(of: list, at: index, to: try makeStrings(names))
        }
        try setAttribute(object, pb_r_dimnames_symbol(), list, name: "dimnames")
        return object
    }

    private func setNames(of object: SEXP, _ names: [String?], count: Int) throws {
        guard names.count == count else { throw RError.conversion("\(names.count) names for \(count) elements") }
        try setAttribute(object, pb_r_names_symbol(), try makeStrings(names), name: "names")
    }

    private func setClasses(_ object: SEXP, _ classes: [String]) throws {
        try setAttribute(object, pb_r_class_symbol(), try makeStrings(classes), name: "class")
    }

    /// The index of the first element equal to an earlier one.
    private static func firstDuplicate(_ values: [String?]) -> Int? {
        var seen = Set<String?>()
        for (index, value) in values.enumerated() where !seen.insert(value).inserted { return index }
        return nil
    }
}

/// An R object whose attributes contradict its meaning; `read` describes it as `.other`.
private struct MalformedRObject: Error {
    let reason: String
}

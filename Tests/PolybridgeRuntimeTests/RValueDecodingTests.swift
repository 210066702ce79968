import Foundation
import Testing
@testable import PolybridgeRuntime

/// Factors, dates, times, names, matrices and lists decoded with their R meaning. Every
/// expectation is checked against what R computes independently for the same object
/// (`as.integer(f)`, `levels(f)`, `unclass(d)`, `attr(x, "tzone")`, `dim(x)`...).
@Suite struct RValueDecodingTests {
    let r: RRuntime
    init() throws { r = try RRuntime.shared() }

    /// The decoded value of `expression`, and `facts` evaluated by R with `x` bound to the same object.
    private func decode(_ expression: String, facts: String) async throws -> (RValue, [RValue]) {
        let value = try await r.evaluate(expression).value
        let oracle = try await r.evaluate("local({ x <- \(expression); \(facts) })").value
        guard case .list(let items, _) = oracle else {
            Issue.record("the oracle did not return a list: \(oracle)")
            return (value, [])
        }
        return (value, items)
    }

    @Test func factorDecodesToLevelsAndOneBasedCodesWithNAAsNil() async throws {
        let (value, facts) = try await decode(#"factor(c("a", NA, "b", "a"))"#,
                                              facts: "list(as.integer(x), levels(x), is.ordered(x))")
        #expect(value == .factor(levels: ["a", "b"], codes: [1, nil, 2, 1], ordered: false))
        guard case .factor(let levels, let codes, let ordered) = value else { Issue.record("not a factor: \(value)"); return }
        #expect(RValue.integer(codes) == facts[0])
        #expect(RValue.character(levels) == facts[1])
        #expect(RValue.logical([ordered]) == facts[2])
    }

    @Test func orderedFactorKeepsItsOrderAndUnusedLevels() async throws {
        let (value, facts) = try await decode(#"ordered(c("lo", "hi", NA, "hi"), levels = c("lo", "mid", "hi"))"#,
                                              facts: "list(as.integer(x), levels(x), is.ordered(x))")
        guard case .factor(let levels, let codes, let ordered) = value else { Issue.record("not a factor: \(value)"); return }
        #expect(RValue.integer(codes) == facts[0])
        #expect(RValue.character(levels) == facts[1])
        #expect(RValue.logical([ordered]) == facts[2])
        #expect(ordered)
        #expect(levels == ["lo", "mid", "hi"])
    }

    @Test func factorWithAnNALevelKeepsIt() async throws {
        let (value, facts) = try await decode(#"addNA(factor(c("a", NA)))"#, facts: "list(as.integer(x), levels(x))")
        guard case .factor(let levels, let codes, _) = value else { Issue.record("not a factor: \(value)"); return }
        #expect(RValue.integer(codes) == facts[0])
        #expect(RValue.character(levels) == facts[1])
        #expect(levels == ["a", nil])
    }

    @Test func zeroLengthFactorKeepsItsLevels() async throws {
        let value = try await r.evaluate(#"factor(character(0), levels = c("x", "y"))"#).value
        #expect(value == .factor(levels: ["x", "y"], codes: []))
    }

    @Test func dateDecodesToDaysSinceTheEpoch() async throws {
        let (value, facts) = try await decode(#"as.Date(c("2024-02-29", NA, "1969-12-31"))"#, facts: "list(unclass(x))")
        guard case .date(let days) = value else { Issue.record("not a date: \(value)"); return }
        #expect(RValue.double(days) == facts[0])
        #expect(days == [19_782, nil, -1])
    }

    @Test func dateStoredAsIntegerDecodesToTheSameDays() async throws {
        let value = try await r.evaluate(#"structure(c(19782L, NA), class = "Date")"#).value
        #expect(value == .date(days: [19_782, nil]))
    }

    @Test func dateTimeKeepsSecondsAndTimeZone() async throws {
        let (value, facts) = try await decode(#"as.POSIXct(c("2024-01-01 12:00", NA), tz = "Europe/Paris")"#,
                                              facts: #"list(as.numeric(x), attr(x, "tzone"))"#)
        guard case .dateTime(let seconds, let zone) = value else { Issue.record("not a date-time: \(value)"); return }
        #expect(RValue.double(seconds) == facts[0])
        #expect(RValue.character([zone]) == facts[1])
        #expect(seconds == [1_704_106_800, nil])
        #expect(zone == "Europe/Paris")
    }

    @Test func dateTimeWithoutTzoneHasNoTimeZone() async throws {
        let (value, facts) = try await decode(".POSIXct(c(0.5, -1))", facts: #"list(as.numeric(x), is.null(attr(x, "tzone")))"#)
        #expect(value == .dateTime(seconds: [0.5, -1], timeZone: nil))
        #expect(facts[1] == .logical([true]))
    }

    @Test func namedVectorKeepsItsNames() async throws {
        let (value, facts) = try await decode("c(a = 1, b = 2)", facts: "list(names(x), unname(x))")
        #expect(value == .structure(.double([1, 2]), names: ["a", "b"]))
        #expect(value.names.map { RValue.character($0) } == facts[0])
        #expect(value.unstructured == facts[1])
    }

    @Test func namesWithNAAndEmptyNamesAreKept() async throws {
        let value = try await r.evaluate(#"x <- 1:3; names(x) <- c("a", NA, ""); x"#).value
        #expect(value.names == ["a", nil, ""])
    }

    @Test func namedFactorAndDateKeepNamesAroundTheirMeaning() async throws {
        let factor = try await r.evaluate(#"setNames(factor(c("u", "v")), c("n1", "n2"))"#).value
        #expect(factor == .structure(.factor(levels: ["u", "v"], codes: [1, 2]), names: ["n1", "n2"]))
        let dates = try await r.evaluate(#"setNames(as.Date("2024-01-01") + 0:1, c("d1", "d2"))"#).value
        #expect(dates == .structure(.date(days: [19_723, 19_724]), names: ["d1", "d2"]))
    }

    @Test func matrixKeepsDimAndDimnames() async throws {
        let (value, facts) = try await decode(#"matrix(1:6, 2, dimnames = list(c("r1", "r2"), c("x", "y", "z")))"#,
                                              facts: "list(dim(x), rownames(x), colnames(x), as.vector(x))")
        #expect(value == .structure(.integer([1, 2, 3, 4, 5, 6]), dim: [2, 3], dimnames: [["r1", "r2"], ["x", "y", "z"]]))
        #expect(value.dim.map { RValue.integer($0.map { Int32($0) }) } == facts[0])
        #expect(value.dimnames?[0].map { RValue.character($0) } == facts[1])
        #expect(value.dimnames?[1].map { RValue.character($0) } == facts[2])
        #expect(value.unstructured == facts[3])
        #expect(value.classNames == ["matrix", "array"])
    }

    @Test func matrixWithOnlyColumnNamesAndThreeDimensionalArrays() async throws {
        let matrix = try await r.evaluate(#"matrix(c(1.5, NA, 3, 4), 2, dimnames = list(NULL, c("a", "b")))"#).value
        #expect(matrix == .structure(.double([1.5, nil, 3, 4]), dim: [2, 2], dimnames: [nil, ["a", "b"]]))
        let array = try await r.evaluate("array(1:8, c(2, 2, 2))").value
        #expect(array == .structure(.integer((1...8).map { Int32($0) }), dim: [2, 2, 2]))
    }

    @Test func nestedNamedListsKeepNamesAndTypedElements() async throws {
        let value = try await r.evaluate(#"list(a = 1, b = "x", c = list(TRUE), d = factor("k"), e = as.Date("2024-02-29"))"#).value
        #expect(value == .list([
            .double([1]), .character(["x"]), .list([.logical([true])]),
            .factor(levels: ["k"], codes: [1]), .date(days: [19_782]),
        ], names: ["a", "b", "c", "d", "e"]))
    }

    @Test func dataFrameColumnsKeepTheirMeaning() async throws {
        let value = try await r.evaluate(#"data.frame(f = factor(c("a", "b")), d = as.Date(c("2024-01-01", NA)))"#).value
        #expect(value == .list([.factor(levels: ["a", "b"], codes: [1, 2]), .date(days: [19_723, nil])], names: ["f", "d"]))
    }

    @Test func zeroLengthValuesKeepTheirKind() async throws {
        #expect(try await r.evaluate("integer(0)").value == .integer([]))
        #expect(try await r.evaluate("as.Date(character(0))").value == .date(days: []))
        #expect(try await r.evaluate(#"as.POSIXct(character(0), tz = "UTC")"#).value == .dateTime(seconds: [], timeZone: "UTC"))
        #expect(try await r.evaluate("list()").value == .list([]))
        #expect(try await r.evaluate("setNames(integer(0), character(0))").value == .structure(.integer([]), names: []))
        #expect(try await r.evaluate("matrix(numeric(0), 0, 3)").value == .structure(.double([]), dim: [0, 3]))
    }

    // MARK: Odd objects

    @Test func factorWithACodeOutsideItsLevelsIsDescribedNotDecoded() async throws {
        let expression = #"structure(c(5L, 1L), levels = "a", class = "factor")"#
        // R's own verdict: the object is malformed.
        let verdict = try await r.evaluate("inherits(try(as.character(\(expression)), silent = TRUE), 'try-error')").value
        #expect(verdict == .logical([true]))
        #expect(try await r.evaluate(expression).value == .other(type: "integer", classes: ["factor"]))
    }

    @Test func factorWithNonCharacterOrMissingLevelsIsDescribed() async throws {
        #expect(try await r.evaluate(#"structure(1:2, levels = 1:2, class = "factor")"#).value
                == .other(type: "integer", classes: ["factor"]))
        #expect(try await r.evaluate(#"structure(1L, class = "factor")"#).value == .other(type: "integer", classes: ["factor"]))
    }

    @Test func dateStoredAsTextIsDescribedNotDecoded() async throws {
        #expect(try await r.evaluate(#"structure("2024-01-01", class = "Date")"#).value == .other(type: "character", classes: ["Date"]))
        #expect(try await r.evaluate(#"structure(1, class = c("POSIXct", "POSIXt"), tzone = 5)"#).value
                == .other(type: "double", classes: ["POSIXct", "POSIXt"]))
    }

    @Test func dimThatDoesNotMatchTheLengthIsDescribedNotDecoded() async throws {
        // R refuses such a dim through every R function; unserialize() does not check, so the
        // serialized bytes of a 2 x 2 matrix are patched to claim 2 x 3.
        let expression = """
            local({
                bytes <- serialize(matrix(c(1L, 2L, 3L, 4L), 2), NULL)
                # The dim attribute's value: INTSXP (13), length 2, then 2L and 2L.
                dim <- as.raw(c(0, 0, 0, 13, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2))
                at <- which(sapply(seq_len(length(bytes) - 15), function(i) all(bytes[i:(i + 15)] == dim)))
                stopifnot(length(at) == 1)
                bytes[at + 15] <- as.raw(3)
                unserialize(bytes)
            })
            """
        let verdict = try await r.evaluate("local({ x <- \(expression); c(length(x), prod(dim(x))) })").value
        #expect(verdict == .double([4, 6]))
        #expect(try await r.evaluate(expression).value == .other(type: "integer", classes: []))
    }

    // MARK: Typed decoding

    @Test func typedDecodersReadThroughNamesAndFactorsAsR() async throws {
        #expect(try await r.eval("c(a = 1, b = 2)", as: [Double].self) == [1, 2])
        #expect(try await r.eval(#"factor(c("x", NA, "y"))"#, as: [String?].self) == ["x", nil, "y"])
        #expect(try await r.eval(#"factor("only")"#, as: String.self) == "only")
        await #expect(throws: RError.self) { try await r.eval(#"as.Date("2024-02-29")"#, as: Double.self) }
        await #expect(throws: RError.self) { try await r.eval(#"factor("a")"#, as: [Int32].self) }
    }

    @Test func foundationDatesDecodeFromDateTimesAndDates() async throws {
        let seconds = try await r.eval(#"as.numeric(as.POSIXct("2024-01-01 12:00", tz = "Europe/Paris"))"#, as: Double.self)
        let instant = try await r.eval(#"as.POSIXct("2024-01-01 12:00", tz = "Europe/Paris")"#, as: Date.self)
        #expect(instant == Date(timeIntervalSince1970: seconds))
        let days = try await r.eval(#"as.Date(c("2024-02-29", NA))"#, as: [Date?].self)
        #expect(days == [Date(timeIntervalSince1970: 19_782 * 86_400), nil])
    }
}

import Foundation
import Testing
@testable import PolybridgeRuntime

/// Swift `RValue`s made into R objects: R's `identical()` with the object R builds itself is
/// the oracle. Values are passed as call arguments, never through shared globals.
@Suite struct RValueEncodingTests {
    let r: RRuntime
    init() throws { r = try RRuntime.shared() }

    /// Whether R finds `value` identical to what `expression` builds.
    private func isIdentical(_ value: RValue, to expression: String) async throws -> Bool {
        try Bool(rValue: try await r.call("function(x) identical(x, \(expression))", [RArgument(nil, value)]).value)
    }

    @Test(arguments: [
        (RValue.factor(levels: ["a", "b"], codes: [1, nil, 2]), #"factor(c("a", NA, "b"))"#),
        (.factor(levels: ["lo", "mid", "hi"], codes: [1, 3], ordered: true), #"ordered(c("lo", "hi"), levels = c("lo", "mid", "hi"))"#),
        (.factor(levels: ["a", nil], codes: [1, 2]), #"addNA(factor(c("a", NA)))"#),
        (.factor(levels: ["x"], codes: []), #"factor(character(0), levels = "x")"#),
        (.date(days: [19_782, nil]), #"as.Date(c("2024-02-29", NA))"#),
        (.dateTime(seconds: [1_704_106_800, nil], timeZone: "Europe/Paris"), #"as.POSIXct(c("2024-01-01 12:00", NA), tz = "Europe/Paris")"#),
        (.dateTime(seconds: [0]), ".POSIXct(0)"),
        (.structure(.double([1, 2]), names: ["a", "b"]), "c(a = 1, b = 2)"),
        (.structure(.integer([1, 2, 3, 4, 5, 6]), dim: [2, 3], dimnames: [["r1", "r2"], ["x", "y", "z"]]),
         #"matrix(1:6, 2, dimnames = list(c("r1", "r2"), c("x", "y", "z")))"#),
        (.structure(.character(["a", nil]), dim: [1, 2], dimnames: [nil, ["p", "q"]]), #"matrix(c("a", NA), 1, dimnames = list(NULL, c("p", "q")))"#),
        (.list([.double([1]), .character(["x"]), .list([.logical([true])])], names: ["a", "b", "c"]),
         #"list(a = 1, b = "x", c = list(TRUE))"#),
        (.structure(.factor(levels: ["u", "v"], codes: [1, 2]), names: ["n1", "n2"]), #"setNames(factor(c("u", "v")), c("n1", "n2"))"#),
    ])
    func makesTheObjectRBuilds(value: RValue, expression: String) async throws {
        #expect(try await isIdentical(value, to: expression), "\(value) is not identical to \(expression)")
    }

    @Test(arguments: [
        #"factor(c("a", NA, "b"))"#, #"ordered(c("lo", "hi"), levels = c("lo", "mid", "hi"))"#,
        #"as.Date(c("2024-02-29", NA))"#, #"as.POSIXct("2024-01-01 12:00", tz = "America/New_York")"#,
        "c(a = 1L, b = NA)", #"matrix(c(1.5, NA, 3, 4), 2, dimnames = list(NULL, c("a", "b")))"#,
        #"list(a = 1, b = list(c = "x"), d = NULL)"#, "array(1:8, c(2, 2, 2))",
    ])
    func decodedValuesRoundTripToIdenticalObjects(expression: String) async throws {
        let value = try await r.evaluate(expression).value
        #expect(try await isIdentical(value, to: expression), "\(value) did not round-trip to \(expression)")
    }

    @Test func impossibleValuesAreConversionErrors() async throws {
        let impossible: [RValue] = [
            .factor(levels: ["a"], codes: [2]),
            .factor(levels: ["a"], codes: [0]),
            .factor(levels: ["a", "a"], codes: [1]),
            .structure(.integer([1, 2, 3]), dim: [2, 2]),
            .structure(.integer([1, 2]), names: ["only one"]),
            .structure(.integer([1, 2]), dim: [2, 1], dimnames: [["a"], nil]),
            .structure(.integer([1, 2]), dimnames: [["a", "b"]]),
        ]
        for value in impossible {
            do {
                _ = try await r.call("identity", [RArgument(nil, value)])
                Issue.record("\(value) was accepted")
            } catch let error as RError {
                guard case .conversion = error else { Issue.record("\(value): wrong error \(error)"); continue }
            }
        }
        // R is still fine afterwards.
        #expect(try await r.eval("1L", as: Int.self) == 1)
    }

    @Test func foundationDateBecomesAUTCDateTime() async throws {
        let instant = Date(timeIntervalSince1970: 1_704_106_800)
        #expect(try await isIdentical(instant.rValue, to: #"as.POSIXct("2024-01-01 11:00", tz = "UTC")"#))
    }
}

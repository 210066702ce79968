import Foundation
import PolybridgeArrow
@testable import PolybridgeModels
import Testing

/// `TriangularFactor` on matrices small enough to check by hand: RᵀR equals AᵀA, R is upper
/// triangular, blocks may arrive one row at a time, and rows of R that stay zero are dropped.
@Suite struct TriangularFactorTests {
    /// Absorbs `rows` (row-major) in blocks of `blockRows`; returns the factor.
    func factor(_ rows: [[Double]], blockRows: Int) -> TriangularFactor {
        let columns = rows[0].count
        var factor = TriangularFactor(columns: columns)
        for start in stride(from: 0, to: rows.count, by: blockRows) {
            let part = Array(rows[start..<min(start + blockRows, rows.count)])
            var block = [Double](repeating: 0, count: part.count * columns)
            for (i, row) in part.enumerated() { for (j, value) in row.enumerated() { block[j * part.count + i] = value } }
            block.withUnsafeMutableBufferPointer { factor.absorb(block: $0.baseAddress!, rowCount: part.count, stride: part.count) }
        }
        return factor
    }

    /// (MᵀM)[i][j] for a column-major `values` with `rows` rows and `columns` columns.
    func gram(_ values: [Double], rows: Int, columns: Int) -> [[Double]] {
        (0..<columns).map { i in (0..<columns).map { j in (0..<rows).reduce(0) { $0 + values[i * rows + $1] * values[j * rows + $1] } } }
    }

    @Test func twoByTwoGivesTheFactorWorkedOutByHand() {
        // AᵀA = [[25, 11], [11, 5]]: R = [[5, 2.2], [0, 0.4]] up to the sign of each row.
        let result = factor([[3, 1], [4, 2]], blockRows: 2)
        #expect(result.rowsAbsorbed == 2)
        let r = result.r  // column-major
        #expect(abs(abs(r[0]) - 5) < 1e-12 && r[1] == 0)
        #expect(abs(abs(r[2]) - 2.2) < 1e-12 && abs(abs(r[3]) - 0.4) < 1e-12)
        #expect(r[0] * r[2] > 0)  // the same row sign: r11·r12 = (AᵀA)12 = 11 > 0
    }

    @Test func rowByRowEqualsOneBlockInItsGramMatrix() {
        let rows: [[Double]] = [[1, 2, 0.5], [1, -1, 3], [1, 0, -2], [1, 4, 1], [1, 2.5, 0]]
        let whole = factor(rows, blockRows: 5), single = factor(rows, blockRows: 1)
        let expected = gram(rows.flatMap { $0 }.enumerated().sorted { ($0.offset % 3, $0.offset / 3) < ($1.offset % 3, $1.offset / 3) }.map(\.element),
                            rows: 5, columns: 3)
        for result in [whole, single] {
            let (values, count) = result.factor
            #expect(count == 3)
            let got = gram(values, rows: count, columns: 3)
            for i in 0..<3 { for j in 0..<3 { #expect(abs(got[i][j] - expected[i][j]) < 1e-10, "\(i),\(j)") } }
            // Upper triangular: nothing below the diagonal.
            for j in 0..<3 { for i in (j + 1)..<3 { #expect(values[j * count + i] == 0) } }
        }
    }

    /// A column that is zero in the chunk leaves its own row of R empty; the residual lands
    /// in a later row, which must be kept (the bug of short chunks giving wrong errors).
    @Test func aZeroColumnDropsItsRowButKeepsTheRowsAfterIt() {
        let rows: [[Double]] = [[1, 0, 2], [1, 0, 3]]
        let (values, count) = factor(rows, blockRows: 2).factor
        #expect(count == 2)
        let got = gram(values, rows: count, columns: 3)
        let expected: [[Double]] = [[2, 0, 5], [0, 0, 0], [5, 0, 13]]
        for i in 0..<3 { for j in 0..<3 { #expect(abs(got[i][j] - expected[i][j]) < 1e-12, "\(i),\(j)") } }
    }

    @Test func anEmptyBlockChangesNothing() {
        var result = TriangularFactor(columns: 2)
        var empty: [Double] = [0, 0]
        empty.withUnsafeMutableBufferPointer { result.absorb(block: $0.baseAddress!, rowCount: 0, stride: 1) }
        #expect(result.rowsAbsorbed == 0 && result.r == [0, 0, 0, 0] && result.factor.rows == 0)
    }
}

/// `NativeChunkData` on a five-row table: which rows lm keeps, the levels it reports, and the
/// factor of [X | y] for a layout written by hand (intercept, x, treatment contrast of g).
@Suite struct NativeChunkDataTests {
    func table(weights: [Double?]? = nil) throws -> ArrowTable {
        var columns = [ArrowColumn(name: "y", array: ArrowArray(float64: [1, 2, nil, 4, 5])),
                       ArrowColumn(name: "x", array: ArrowArray(int32: [10, 20, 30, nil, 50])),
                       ArrowColumn(name: "g", array: try ArrowArray(utf8: ["b", "a", "b", "c", "a"]))]
        if let weights { columns.append(ArrowColumn(name: "w", array: ArrowArray(float64: weights))) }
        return try ArrowTable(columns: columns)
    }

    let layout = NativeLayout(names: ["(Intercept)", "x", "gb"],
                              columns: [[], [.init(variable: "x", contrast: [])], [.init(variable: "g", contrast: [0, 1, 0])]],
                              intercept: true)

    @Test func levelsArePerChunkInFirstAppearanceAndPresentOnlyInKeptRows() throws {
        let plan = NativeModelPlan(response: "y", predictors: ["x", "g"])
        let data = try #require(NativeChunkData(try table(), plan: plan))
        #expect(data.kept == [true, true, false, false, true])  // y missing in row 3, x in row 4
        let levels = data.levels()
        #expect(levels.names == ["g"] && levels.full == [["b", "a", "c"]] && levels.present == [["b", "a"]])
        #expect(levels.order == [.text])
    }

    @Test func theFactorsGramMatrixIsThatOfTheKeptRows() throws {
        let plan = NativeModelPlan(response: "y", predictors: ["x", "g"])
        let data = try #require(NativeChunkData(try table(), plan: plan))
        let factor = try data.factor(layout: layout, levels: ["g": ["a", "b", "c"]])
        #expect(factor.kept == 3 && factor.used == 3 && factor.dropped == 2 && factor.columns == layout.names)
        // Kept rows: (1, 10, gb=1, y=1), (1, 20, 0, 2), (1, 50, 0, 5).
        let m: [[Double]] = [[1, 10, 1, 1], [1, 20, 0, 2], [1, 50, 0, 5]]
        let got = TriangularFactorTests().gram(factor.r, rows: factor.rows, columns: 4)
        for i in 0..<4 { for j in 0..<4 {
            let expected = m.reduce(0) { $0 + $1[i] * $1[j] }
            #expect(abs(got[i][j] - expected) < 1e-9 * max(1, abs(expected)), "\(i),\(j)")
        } }
    }

    @Test func zeroWeightsAreKeptButNotUsedAndNegativeWeightsAreRefused() throws {
        let plan = NativeModelPlan(response: "y", predictors: ["x", "g"], weights: "w")
        let data = try #require(NativeChunkData(try table(weights: [4, 0, 1, 1, 1]), plan: plan))
        let factor = try data.factor(layout: layout, levels: ["g": ["a", "b", "c"]])
        #expect(factor.kept == 3 && factor.used == 2)
        // √w scales each kept row: row 1 by 2, row 5 by 1; row 2 has weight 0.
        let m: [[Double]] = [[2, 20, 2, 2], [1, 50, 0, 5]]
        let got = TriangularFactorTests().gram(factor.r, rows: factor.rows, columns: 4)
        for i in 0..<4 { for j in 0..<4 {
            let expected = m.reduce(0) { $0 + $1[i] * $1[j] }
            #expect(abs(got[i][j] - expected) < 1e-9 * max(1, abs(expected)), "\(i),\(j)")
        } }
        let negative = try #require(NativeChunkData(try table(weights: [1, -1, 1, 1, 1]), plan: plan))
        #expect(throws: NativeChunkError.self) { try negative.factor(layout: layout, levels: ["g": ["a", "b", "c"]]) }
    }

    @Test func aLevelMissingFromTheGlobalLevelsIsAnErrorInRsWords() throws {
        let plan = NativeModelPlan(response: "y", predictors: ["x", "g"])
        let data = try #require(NativeChunkData(try table(), plan: plan))
        let error = #expect(throws: NativeChunkError.self) { try data.factor(layout: layout, levels: ["g": ["b", "c"]]) }
        #expect(error?.description == "factor g has new levels a")
    }

    @Test func aColumnOfAnotherTypeLeavesTheChunkToR() throws {
        let plan = NativeModelPlan(response: "y", predictors: ["x", "when"])
        let table = try ArrowTable(columns: [ArrowColumn(name: "y", array: ArrowArray(float64: [1])),
                                             ArrowColumn(name: "x", array: ArrowArray(float64: [1])),
                                             ArrowColumn(name: "when", array: ArrowArray(date32Days: [1]))])
        #expect(NativeChunkData(table, plan: plan) == nil)
    }
}

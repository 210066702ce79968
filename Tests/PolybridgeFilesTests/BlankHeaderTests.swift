import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// A first CSV column under an empty header holds row names (R's write.csv and pandas' to_csv
/// write them so). When its values cannot be R row names it stays a column in its place, named
/// "" as every other empty header converts; it never becomes `__index_level_0__`.
@Suite struct BlankHeaderTests {
    /// Converts `csv` text to RDS and asks R whether readRDS gives read.csv's frame with the
    /// first name "" (read.csv calls it X) and automatic row names.
    func convertsAsReadCSVWithAnEmptyName(_ text: String) async throws -> Bool {
        let directory = try scratchDirectory()
        let csv = directory + "/blank.csv", rds = directory + "/blank.rds"
        try Data(text.utf8).write(to: URL(fileURLWithPath: csv))
        _ = try await DataFiles.convert(csv, to: rds)
        return try await RRuntime.shared().eval("""
            local({ expected <- read.csv('\(csv)'); names(expected)[1] <- ''
                    identical(readRDS('\(rds)'), expected) })
            """, as: Bool.self)
    }

    @Test func duplicateValuesUnderAnEmptyHeaderStayAFirstColumnNamedEmpty() async throws {
        #expect(try await convertsAsReadCSVWithAnEmptyName(",v\na,1\na,2\nb,3\n"))
    }

    @Test func missingValuesUnderAnEmptyHeaderStayAFirstColumnNamedEmpty() async throws {
        #expect(try await convertsAsReadCSVWithAnEmptyName(",v\na,1\nNA,2\nb,3\n"))
        #expect(try await convertsAsReadCSVWithAnEmptyName(",v\n1,1\n1,2\n2,3\n"))
    }

    /// Unique values are R's row names, as before.
    @Test func uniqueValuesUnderAnEmptyHeaderAreRowNames() async throws {
        let directory = try scratchDirectory()
        let csv = directory + "/names.csv", rds = directory + "/names.rds"
        try Data(",v\na,1\nb,2\n".utf8).write(to: URL(fileURLWithPath: csv))
        _ = try await DataFiles.convert(csv, to: rds)
        #expect(try await RRuntime.shared().eval("identical(readRDS('\(rds)'), read.csv('\(csv)', row.names = 1))", as: Bool.self))
    }

    /// The same from pandas: an unnamed index with a duplicate reaches R as a first column "".
    @Test func pandasIndexWithDuplicatesReachesRAsAFirstColumnNamedEmpty() async throws {
        let python = try PythonRuntime.shared()
        let frame = try python.evaluateObject("__import__('pandas').DataFrame({'v': [1, 2]}, index=['a', 'a'])")
        try await Bridge.assignToR(python: frame, as: "duplicate_index")
        #expect(try await RRuntime.shared().eval("identical(names(duplicate_index), c('', 'v')) && identical(duplicate_index[[1]], c('a', 'a'))",
                                                 as: Bool.self))
    }
}

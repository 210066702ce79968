import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// CSV files with tens of thousands of columns convert in time linear in the columns
/// (`scripts/bench-csv-width.sh` measures it): no step may touch every column once per column.
@Suite struct WideCSVTests {
    /// 30,000 integer columns to RDS: R's own read.csv of the CSV is identical() to readRDS of
    /// the output. The time limit is the budget of the suite, not a measurement (alone this takes
    /// seconds; in a full run it may wait minutes for the shared R): with a pass over all columns
    /// per column, 20,000 columns took over four minutes.
    @Test(.timeLimit(.minutes(4)))
    func thirtyThousandColumnCSVConvertsToRDSAsReadCSVReadsIt() async throws {
        let directory = try scratchDirectory()
        let csv = directory + "/wide.csv", rds = directory + "/wide.rds"
        let width = 30_000
        var text = (0..<width).map { "c\($0)" }.joined(separator: ",") + "\n"
        for row in 0..<3 { text += (0..<width).map { String((row * 7 + $0) % 1000 - 500) }.joined(separator: ",") + "\n" }
        try Data(text.utf8).write(to: URL(fileURLWithPath: csv))
        let written = try await DataFiles.convert(csv, to: rds)
        #expect(written.rows == 3)
        #expect(written.columns.count == width)
        let r = try RRuntime.shared()
        let same = try await r.eval("""
            local({ expected <- read.csv('\(csv)'); actual <- readRDS('\(rds)')
                    identical(actual, expected) && ncol(actual) == \(width) && all(vapply(actual, is.integer, TRUE)) })
            """, as: Bool.self)
        #expect(same)
    }
}

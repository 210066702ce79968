import Foundation
import PolybridgeTestSupport
import Testing

/// 1,000 pandas → R → pandas round trips of a 10,000-row frame with every type: each trip equals
/// the original and resident memory stays flat. Runs in a child process (`polybridge stress
/// conversion`) so the measurement sees only this loop, not the other tests.
@Suite struct ConversionStressTests {
    @Test func thousandRoundTripsKeepDataAndMemoryStable() async throws {
        let run = try await runPolybridge("stress", "conversion", "--count", "1000", "--rows", "10000")
        #expect(run.status == 0, "stress failed: \(run.error)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        #expect(report["count"] as? Int == 1_000)
        #expect(report["mismatches"] as? Int == 0, "\(report)")
        // One leaked copy of the frame per trip would be ~450 MB over the run. Allocator pools
        // grow to a plateau early (about 20 MB here), so the second half must stay nearly flat:
        // under 16 MiB, i.e. under 32 KiB per trip, a small part of one frame. (The plateau
        // moves with how the trips land on threads and their malloc arenas: in a full test run
        // on a loaded machine the second half once grew by 5.7 MiB with no leak.)
        let before = report["rssBeforeKB"] as? Int ?? 0
        let halfway = report["rssHalfwayKB"] as? Int ?? 0
        let after = report["rssAfterKB"] as? Int ?? 0
        #expect(after - halfway < 16 * 1024, "resident memory grew by \(after - halfway) KiB over the last 500 round trips: \(report)")
        #expect(after - before < 48 * 1024, "resident memory grew by \(after - before) KiB over 1,000 round trips: \(report)")
    }
}

import PolybridgeModels
import Testing

/// Consecutive small row groups are grouped into chunks of a sensible size.
@Suite struct RowGroupChunkTests {
    @Test func smallRowGroupsAreGroupedIntoLargeChunks() {
        let groups = Array(repeating: 9_600, count: 35)  // 336,000 rows, as nycflights13's flights was written
        // 27 groups reach 250,000 rows; the 8 left (76,800 rows) are under half a chunk and join them.
        #expect(LinearModel.chunkRanges(rowGroups: groups, minimumRows: 250_000, atLeast: 1) == [0..<336_000])
        let more = Array(repeating: 9_600, count: 60)
        #expect(LinearModel.chunkRanges(rowGroups: more, minimumRows: 250_000, atLeast: 1) == [0..<259_200, 259_200..<576_000])
    }

    @Test func groupingLeavesAtLeastOneChunkPerWorker() {
        let groups = Array(repeating: 10_000, count: 40)
        let ranges = LinearModel.chunkRanges(rowGroups: groups, minimumRows: 250_000, atLeast: 4)
        #expect(ranges == [0..<100_000, 100_000..<200_000, 200_000..<300_000, 300_000..<400_000])
    }

    @Test func largeRowGroupsStayOneChunkEach() {
        let ranges = LinearModel.chunkRanges(rowGroups: [1_000_000, 1_000_000, 0, 500], minimumRows: 250_000, atLeast: 1)
        #expect(ranges == [0..<1_000_000, 1_000_000..<2_000_500])
    }
}

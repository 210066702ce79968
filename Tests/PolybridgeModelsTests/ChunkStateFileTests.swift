import Foundation
import PolybridgeJobs
import PolybridgeTestSupport
import Testing
@testable import PolybridgeModels

/// A chunk's state kept on disk: the values come back as written, the file has no name in its
/// folder from the start (nothing to leak, even on a kill), and a folder that cannot take it
/// is an error naming the folder.
@Suite struct ChunkStateFileTests {
    @Test func valuesComeBackAsWrittenFromAFileWithNoName() throws {
        let folder = try scratchDirectory()
        let x = (0..<3000).map { Double($0) * 0.25 - 7 }, y: [Double] = [.nan, -0.0, .infinity, 1e-310, 3]
        let file = try x.withUnsafeBufferPointer { xs in
            try y.withUnsafeBufferPointer { ys in
                try ChunkStateFile(folder: folder, vectors: [("x", xs.baseAddress!, xs.count), ("y", ys.baseAddress!, ys.count)])
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        #expect(file.byteCount == (x.count + y.count) * 8)
        for _ in 0..<2 {
            try file.withMapping { vector in
                let xs = try #require(vector("x")), ys = try #require(vector("y"))
                #expect(Array(UnsafeBufferPointer(start: xs.values, count: xs.count)) == x)
                #expect(Array(UnsafeBufferPointer(start: ys.values, count: ys.count)).map(\.bitPattern) == y.map(\.bitPattern))
                #expect(vector("weights") == nil)
            }
        }
    }

    @Test func aFolderThatCannotTakeTheStateIsNamed() throws {
        let values = [1.0, 2.0]
        let folder = try scratchDirectory() + "/missing"
        #expect {
            try values.withUnsafeBufferPointer { try ChunkStateFile(folder: folder, vectors: [("y", $0.baseAddress!, 2)]) }
        } throws: { error in
            guard let error = error as? JobError else { return false }
            return error.message == "cannot make a file in \(folder): No such file or directory"
        }
    }
}

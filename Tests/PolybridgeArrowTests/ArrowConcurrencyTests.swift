import Synchronization
import Testing
@testable import PolybridgeArrow

/// A C struct pointer handed between tasks (the tests guarantee exclusive use).
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
}

/// Values collected from several tasks.
final class Collected: Sendable {
    private let values = Mutex<[Int64]>([])
    func append(_ value: Int64) { values.withLock { $0.append(value) } }
    var sorted: [Int64] { values.withLock { $0.sorted() } }
}

@Suite struct ArrowConcurrencyTests {
    @Test func exportsReleasedConcurrentlyOnOtherThreadsReleaseTheSourceOnce() async throws {
        let counter = ReleaseCounter()
        let storage = ForeignBytes(bytes(of: (0..<64).map(Double.init)))
        let exports = 32
        let structs = UnsafeMutablePointer<CArrow.ArrowArray>.allocate(capacity: exports)
        defer { structs.deallocate() }
        do {
            let array = try ArrowArray(type: .float64, length: 64, nullCount: 0, buffers: [nil, storage.raw],
                                       onRelease: counter.callback)
            for i in 0..<exports { array.export(to: structs + i) }
        }
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<exports {
                let slot = SendablePointer(pointer: structs + i)
                group.addTask {
                    if i.isMultiple(of: 2) {
                        slot.pointer.pointee.release?(slot.pointer)
                    } else if let imported = try? ArrowArray(consuming: slot.pointer, type: .float64) {
                        _ = try? imported.slice(offset: i, length: 1).float64Values()
                    }
                }
            }
        }
        #expect(counter.count == 1)
        withExtendedLifetime(storage) {}
    }

    @Test func concurrentGetNextCallsYieldEveryBatchExactlyOnce() async throws {
        let batches = (0..<16).map { [ArrowArray(int64: [Int64($0)])] }
        let table = try ArrowTable(schema: [ArrowField(name: "n", type: .int64)], batches: batches)
        let stream = CStreamBox()
        table.exportStream(to: stream.pointer)
        let shared = SendablePointer(pointer: stream.pointer)
        let seen = Collected()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let out = UnsafeMutablePointer<CArrow.ArrowArray>.allocate(capacity: 1)
                    defer { out.deallocate() }
                    while true {
                        out.initialize(to: CArrow.ArrowArray())
                        guard shared.pointer.pointee.get_next?(shared.pointer, out) == 0,
                              out.pointee.release != nil,
                              let batch = try? ArrowArray(consuming: out, type: .structType(table.schema)),
                              let value = try? batch.field(at: 0).int64Values().first ?? nil
                        else { return }
                        seen.append(value)
                    }
                }
            }
        }
        #expect(seen.sorted == (0..<16).map(Int64.init))
    }
}

import Foundation
import PolybridgeJobs

/// A chunk's per-row state (vectors of doubles, by name) kept in a file instead of memory,
/// read once per round through a mapping that lasts as long as the round.
///
/// The file is unlinked as soon as it is open: it has no name in its folder, its space goes
/// back when the state is dropped or its worker process ends by any means, a kill included,
/// and no other process can open it.
final class ChunkStateFile: Sendable {
    private let descriptor: Int32
    /// Each vector's first element and length, in doubles from the start of the file.
    private let entries: [String: (start: Int, count: Int)]
    /// The file's length in bytes.
    let byteCount: Int

    /// Writes `vectors` in order to a new file in `folder`; a file that cannot be made or
    /// written is a ``JobError`` naming the folder and the system's reason.
    init(folder: String, vectors: [(name: String, values: UnsafePointer<Double>, count: Int)]) throws {
        var template = Array((folder.hasSuffix("/") ? folder : folder + "/").utf8CString.dropLast()) + Array("polybridge-chunk-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw Self.failure("make a file in \(folder)") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        var entries: [String: (start: Int, count: Int)] = [:], next = 0
        do {
            for vector in vectors {
                try Self.write(descriptor, UnsafeRawPointer(vector.values), bytes: vector.count * 8, folder: folder)
                entries[vector.name] = (next, vector.count)
                next += vector.count
            }
        } catch {
            close(descriptor)
            throw error
        }
        (self.descriptor, self.entries, self.byteCount) = (descriptor, entries, next * 8)
    }

    deinit { close(descriptor) }

    /// Calls `body` with the file mapped; `vector(name)` inside it gives that vector's values
    /// (nil for a vector the state does not hold). The mapping ends when `body` returns.
    func withMapping<T>(_ body: (_ vector: (String) -> (values: UnsafePointer<Double>, count: Int)?) throws -> T) throws -> T {
        guard byteCount > 0 else { return try body { _ in nil } }
        guard let mapped = mmap(nil, byteCount, PROT_READ, MAP_SHARED, descriptor, 0), mapped != MAP_FAILED else {
            throw Self.failure("map a chunk's state kept on disk (\(byteCount) bytes)")
        }
        defer { munmap(mapped, byteCount) }
        madvise(mapped, byteCount, MADV_SEQUENTIAL)
        let base = UnsafePointer(mapped.assumingMemoryBound(to: Double.self))
        let entries = entries
        return try body { name in entries[name].map { (base + $0.start, $0.count) } }
    }

    private static func write(_ descriptor: Int32, _ start: UnsafeRawPointer, bytes: Int, folder: String) throws {
        var done = 0
        while done < bytes {
            let written = Glibc.write(descriptor, start + done, min(bytes - done, 1 << 30))
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw failure("write a chunk's state to a file in \(folder)") }
            done += written
        }
    }

    private static func failure(_ what: String) -> JobError {
        JobError(.failed, "cannot \(what): \(String(cString: strerror(errno)))")
    }
}

/// Where each chunk of a chunked glm keeps its IRLS state between rounds.
public enum ChunkStatePlacement: String, Sendable, Codable, CaseIterable {
    /// On disk when the state of all chunks (about (columns + 6) × 8 bytes a row) would take
    /// more than half the memory limit (`MemAvailable`, or `POLYBRIDGE_MEMORY_LIMIT`), else
    /// in memory.
    case automatic = "auto"
    /// In the worker's memory: each round reads it in place.
    case memory
    /// In a file of the worker's own in its temporary folder (`TMPDIR`), unlinked at once,
    /// read through a mapping once per round: the worker's memory holds one chunk at a time.
    case disk
}

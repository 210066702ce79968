import Foundation
import Synchronization

/// The path of a committed input in fixtures/files (made by fixtures/make-fixtures.sh).
public func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/files/\(name)").path
}

/// A fresh, empty directory for one test's outputs, removed when the test process exits.
public func scratchDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "polybridge-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    ScratchDirectories.keep(path)
    return path
}

/// The scratch directories this process made, removed at its exit (each test's outputs last
/// as long as the run, which tests that read them back, or hand them to R, rely on).
private enum ScratchDirectories {
    private static let made = Mutex<[String]>([])
    private static let removedAtExit: Void = {
        atexit { for path in ScratchDirectories.made.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) } }
    }()

    static func keep(_ path: String) {
        _ = removedAtExit
        made.withLock { $0.append(path) }
    }
}

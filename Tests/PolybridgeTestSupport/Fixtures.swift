import Foundation

/// The path of a committed input in fixtures/files (made by fixtures/make-fixtures.sh).
public func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/files/\(name)").path
}

/// A fresh, empty directory for one test's outputs.
public func scratchDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "polybridge-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

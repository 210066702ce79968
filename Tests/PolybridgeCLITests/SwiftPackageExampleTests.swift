import Foundation
import PolybridgeTestSupport
import Testing

/// The README's example for Swift users, built as a separate package that depends on this
/// repository by path, the way a user's package does.
@Suite struct SwiftPackageExampleTests {
    static let example = "Examples/HelloPolybridge"
    static let files = ["Package.swift", "Sources/HelloPolybridge/main.swift"]

    private func contents(_ path: String) throws -> String {
        try String(contentsOfFile: repositoryRoot() + "/" + path, encoding: .utf8)
    }

    @Test func readmeQuotesTheExampleVerbatim() async throws {
        let readme = try contents("README.md")
        for file in SwiftPackageExampleTests.files {
            let source = try contents(SwiftPackageExampleTests.example + "/" + file)
            #expect(readme.contains("```swift\n" + source + "```\n"), "README.md does not quote \(file) verbatim")
        }
    }

    /// The fenced `text` block after `marker` in the README.
    private func readmeBlock(after marker: String) throws -> String {
        let readme = try contents("README.md")
        let start = try #require(readme.range(of: marker), "README.md has no \(marker)")
        let opening = try #require(readme.range(of: "```text\n", range: start.upperBound..<readme.endIndex))
        let closing = try #require(readme.range(of: "```", range: opening.upperBound..<readme.endIndex))
        return String(readme[opening.upperBound..<closing.lowerBound])
    }

    @Test(.timeLimit(.minutes(30)))
    func swiftPackageExampleFromTheREADMEBuildsAndRuns() async throws {
        let workspace = FileManager.default.temporaryDirectory
            .appendingPathComponent("polybridge-example-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: workspace) }
        // The example depends on "../polybridge": a link with that name stands for the checkout,
        // so the package identity is "polybridge" whatever the repository's folder is called.
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: workspace.appendingPathComponent("polybridge").path,
                                                   withDestinationPath: repositoryRoot())
        let package = workspace.appendingPathComponent("HelloPolybridge")
        for file in SwiftPackageExampleTests.files {
            let target = package.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents(SwiftPackageExampleTests.example + "/" + file).write(to: target, atomically: true, encoding: .utf8)
        }

        let build = try await runCommand("swift", ["build", "--package-path", package.path])
        let log = build.output + build.error
        try #require(build.status == 0, "swift build failed:\n\(log)")
        // SwiftPM's own warnings (prohibited pkg-config flags, manifest problems) start a line;
        // those it attributes to another package ("warning: 'swift-distributed-tracing': …", a
        // dependency's own files) are that package's to fix.
        #expect(!log.contains("prohibited"), "\(log)")
        let ours = log.split(separator: "\n").filter { line in
            guard line.hasPrefix("warning:") else { return false }
            let rest = line.dropFirst("warning: ".count)
            guard rest.hasPrefix("'"), let close = rest.dropFirst().firstIndex(of: "'") else { return true }
            let package = rest[rest.index(after: rest.startIndex)..<close]
            return package == "polybridge" || package == "hellopolybridge"
        }
        #expect(ours.isEmpty, "\(log)")

        let run = try await runCommand(package.appendingPathComponent(".build/debug/HelloPolybridge").path, [])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output == (try readmeBlock(after: "`swift run HelloPolybridge` prints:")))
    }
}

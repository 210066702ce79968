import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// `fit --plot` and `run --graph` write by the policy `convert` follows: through a symlink (the
/// link kept, its target replaced, its mode kept), never over a device, pipe or socket, with an
/// error naming the path. The file system's own view (lstat/stat) is the judge. The real
/// `/dev/null` is only ever reached through a symlink in a scratch folder: code that replaced
/// the path it was given would replace the link, never the device.
@Suite struct OutputPolicyTests {
    /// The file type bits of `path` (lstat: a symlink is itself), or nil when it does not exist.
    func type(_ path: String, following: Bool = false) -> mode_t? {
        var status = stat()
        guard (following ? stat(path, &status) : lstat(path, &status)) == 0 else { return nil }
        return status.st_mode & S_IFMT
    }

    func permissions(_ path: String) -> mode_t {
        var status = stat()
        _ = stat(path, &status)
        return status.st_mode & 0o7777
    }

    func startsAsPNG(_ path: String) -> Bool {
        FileManager.default.contents(atPath: path)?.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    /// A small pipeline (one read step) in `directory`, for `run --dry-run --graph`.
    func pipeline(in directory: String) throws -> String {
        try Data("x\n1\n".utf8).write(to: URL(fileURLWithPath: directory + "/d.csv"))
        try Data("name: p\nsteps:\n  - {id: raw, kind: read, path: d.csv}\n".utf8).write(to: URL(fileURLWithPath: directory + "/p.yaml"))
        return directory + "/p.yaml"
    }

    /// The command that writes `output`: a fit's plot or a pipeline's graph.
    func write(_ command: String, to output: String, in directory: String) async throws -> PolybridgeRun {
        if command == "plot" {
            let parquet = try await FitCommandTests().mtcarsParquet()
            return try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt", "--plot", output)
        }
        return try await runPolybridge("run", try pipeline(in: directory), "--dry-run", "--graph", output)
    }

    @Test(arguments: ["plot", "graph"])
    func aSymlinkToDevNullIsRefusedAndNeitherIsReplaced(command: String) async throws {
        let directory = try scratchDirectory()
        let link = directory + "/out.png"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/null")
        let run = try await write(command, to: link, in: directory)
        #expect(run.status == 1, "\(run.error)")
        #expect(run.error.contains("\(link): cannot write: it is not a regular file (a symlink to /dev/null)"), "\(run.error)")
        #expect(type(link) == S_IFLNK)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "/dev/null")
        #expect(type("/dev/null") == S_IFCHR)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { !$0.hasPrefix(".") }, "a temporary file was left")
    }

    @Test(arguments: ["plot", "graph"])
    func aFIFOIsRefusedAndStaysAFIFO(command: String) async throws {
        let directory = try scratchDirectory()
        let fifo = directory + "/out.png"
        #expect(mkfifo(fifo, 0o644) == 0)
        let run = try await write(command, to: fifo, in: directory)
        #expect(run.status == 1, "\(run.error)")
        #expect(run.error.contains("\(fifo): cannot write: it is not a regular file; a device, pipe or socket is never replaced"), "\(run.error)")
        #expect(type(fifo) == S_IFIFO)
    }

    @Test(arguments: ["plot", "graph"])
    func aSymlinkIsWrittenThroughKeepingTheLinkAndTheTargetsMode(command: String) async throws {
        let directory = try scratchDirectory()
        let target = directory + "/target.out", link = directory + "/link.out"
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        #expect(chmod(target, 0o640) == 0)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "target.out")
        let run = try await write(command, to: link, in: directory)
        #expect(run.status == 0, "\(run.error)")
        #expect(type(link) == S_IFLNK)
        #expect(type(target) == S_IFREG && permissions(target) == 0o640)
        let written = try String(contentsOfFile: target, encoding: .isoLatin1)
        #expect(command == "plot" ? startsAsPNG(target) : written.contains("flowchart"), "\(written.prefix(40))")
    }
}

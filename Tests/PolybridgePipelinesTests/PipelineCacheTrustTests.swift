import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// The cache is trusted only while its files are what Polybridge wrote: an output edited by
/// hand is rewritten, a damaged or truncated entry is a miss with a warning that names it.
@Suite struct PipelineCacheTrustTests {
    static let pipeline = """
        name: p
        steps:
          - {id: raw, kind: read, path: data/small.csv}
          - {id: clean, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: raw}}
          - {id: out, kind: write, path: out/clean.csv, inputs: {d: clean}}
        """

    /// A project run once, so every step is cached.
    func warmProject() async throws -> PipelineProject {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": Self.pipeline]) { $1 })
        let first = try await runPolybridge("run", project.path("p.yaml"))
        #expect(first.status == 0, "\(first.output)\(first.error)")
        return project
    }

    /// The status and cache columns of `step` in the run's table.
    func row(_ output: String, _ step: String) -> [String] {
        output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.first { $0.first == step } ?? []
    }

    @Test func aWriteStepsOutputEditedByHandIsRewritten() async throws {
        let project = try await warmProject()
        let written = try String(contentsOfFile: project.path("out/clean.csv"), encoding: .utf8)
        try project.write("out/clean.csv", "id,x\n1,999\n")
        let run = try await runPolybridge("run", project.path("p.yaml"))
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(row(run.output, "out").last == "rewritten", "\(run.output)")
        #expect(try String(contentsOfFile: project.path("out/clean.csv"), encoding: .utf8) == written)
        let again = try await runPolybridge("run", project.path("p.yaml"))
        #expect(row(again.output, "out").last == "hit", "\(again.output)")
    }

    /// The cached output of `clean`, the only step with an Arrow output besides `raw`.
    func cachedOutput(_ project: PipelineProject) throws -> String {
        let folder = project.path(".polybridge-cache/p")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasPrefix("clean.") && $0.hasSuffix(".arrow") })
        return folder + "/" + name
    }

    @Test(arguments: ["changed", "truncated"])
    func aDamagedCacheEntryIsAMissWithAWarningNamingIt(damage: String) async throws {
        let project = try await warmProject()
        let entry = try cachedOutput(project)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry)))
        if damage == "changed" {
            // A value in the data, same size: the file still reads, with other numbers.
            let index = bytes.count / 2
            bytes[index] ^= 0x5A
        } else {
            bytes.removeLast(bytes.count / 3)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: entry))
        let run = try await runPolybridge("run", project.path("p.yaml"))
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.error.contains("warning: the cached output \(entry) is damaged or was changed; step clean runs again"), "\(run.error)")
        #expect(row(run.output, "clean").contains("done") && row(run.output, "clean").last == "miss", "\(run.output)")
        // The entry is whole again: the next run hits it.
        let again = try await runPolybridge("run", project.path("p.yaml"))
        #expect(row(again.output, "clean").last == "hit" && again.error.isEmpty, "\(again.output)\(again.error)")
    }

    @Test func explainSaysASourceItCannotFollow() async throws {
        let project = try PipelineProject(baseFiles.merging([
            "rscripts/dynamic.R": "source(paste0(\"help\", \"ers.R\"))\nclean <- function(d) d\n",
            "p.yaml": """
                name: p
                steps:
                  - {id: raw, kind: read, path: data/small.csv}
                  - {id: clean, kind: r, script: rscripts/dynamic.R, function: clean, inputs: {d: raw}}
                """,
        ]) { $1 })
        let run = try await runPolybridge("run", project.path("p.yaml"), "--explain")
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("note: source(paste0(\"help\", \"ers.R\")) in dynamic.R cannot be resolved before the step runs"), "\(run.output)")
    }
}

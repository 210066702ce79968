import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// The bounds on what a pipeline file may make the loader build: its size, and the values its
/// `params` expand to through YAML aliases.
@Suite struct PipelineFileLimitsTests {
    /// A "billion laughs" pipeline: nine parameters, each a list of nine aliases of the one before
    /// (a few hundred bytes that expand to 9^9 values in the last parameter).
    static let aliasBomb: String = {
        var lines = ["name: bomb", "steps:", "  - id: s", "    kind: r", "    code: \"x\"", "    params:",
                     "      a: &a [x,x,x,x,x,x,x,x,x]"]
        let names = Array("abcdefghi").map(String.init)
        for (previous, name) in zip(names, names.dropFirst()) {
            lines.append("      \(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]")
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    @Test func anAliasBombFailsFastUnderAMemoryLimitNamingTheFileAndTheParameterLine() async throws {
        let project = try PipelineProject(["bomb.yaml": Self.aliasBomb])
        // 1.5 GB of address space is plenty for a dry run (it needs under 0.8 GB); expanding the
        // aliases needs several GB, so the kernel's limit, not Polybridge, would end the process.
        let command = "ulimit -v 1500000; exec \(polybridgeExecutable().path) run --dry-run \(project.path("bomb.yaml"))"
        let started = ContinuousClock.now
        let run = try await runCommand("bash", ["-c", command])
        #expect(run.status == 1, "\(run.error)")
        // Parameters a to e hold 74,732 values; f (line 12) would add 597,871.
        #expect(run.error.contains("bomb.yaml:12: step 's': the parameters hold more than 100000 values"), "\(run.error)")
        #expect(run.error.contains("parameter 'f'"), "\(run.error)")
        // A bound against growing until killed, not a measurement (alone: under a second).
        #expect(ContinuousClock.now - started < .seconds(120))
    }

    @Test func aliasesWithinTheLimitStillExpand() throws {
        let project = try PipelineProject(["p.yaml": """
            name: p
            steps:
              - {id: s, kind: r, code: "x", params: {base: &b [1, 2], again: *b}}
            """])
        let step = try PipelineFile.load(project.path("p.yaml")).steps[0]
        #expect(step.params.map(\.name) == ["base", "again"])
        #expect(step.params.map(\.value) == [.list([.int(1), .int(2)]), .list([.int(1), .int(2)])])
    }

    @Test func aPipelineFileLargerThanOneMebibyteIsRefusedNamingTheFile() throws {
        let padding = String(repeating: "# padding\n", count: (1 << 20) / 10 + 1)
        let project = try PipelineProject(["big.yaml": "name: p\nsteps:\n  - {id: s, kind: r, code: \"x\"}\n" + padding])
        let path = project.path("big.yaml")
        #expect(throws: PipelineError.unreadable(file: path, detail: "the pipeline file is larger than 1024 KiB; a pipeline file holds steps, not data")) {
            try PipelineFile.load(path)
        }
    }
}

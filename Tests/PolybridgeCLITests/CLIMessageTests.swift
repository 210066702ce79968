import Foundation
import PolybridgeTestSupport
import Testing

@Suite struct CLIMessageTests {
    @Test func inspectSuggestsOnlyItsOwnOptions() async throws {
        let typo = try await runPolybridge(["inspect", "data.csv", "--jsno"])
        #expect(typo.status == 64)
        #expect(typo.error.contains("Unknown option '--jsno'. Did you mean '--json'?"))
        #expect(typo.error.contains("Usage: polybridge inspect"))
        // --compression belongs to convert: inspect must not offer it for a near miss.
        let foreign = try await runPolybridge(["inspect", "data.csv", "--compresion", "zstd"])
        #expect(foreign.status == 64)
        #expect(foreign.error.contains("Unknown option '--compresion'"))
        #expect(!foreign.error.contains("--compression"))
        let bogus = try await runPolybridge(["inspect", "--bogus"])
        #expect(bogus.status == 64)
        for option in ["--compression", "--from", "--to ", "--python", "--r "] {
            #expect(!bogus.error.contains(option), "inspect --bogus mentions \(option): \(bogus.error)")
        }
    }

    @Test func usageErrorsExit64() async throws {
        for arguments in [["convert", "only-one-file.csv"], ["inspect"], ["eval", "--r"], ["no-such-command"]] {
            let run = try await runPolybridge(arguments)
            #expect(run.status == 64, "\(arguments): \(run.error)")
            #expect(run.error.hasPrefix("Error: "), "\(arguments): \(run.error)")
        }
    }

    /// Each status is checked where it arises: 0 and 1 in `EvalCommandTests`
    /// (`rValuePrintsLikeRscript`, `rErrorExitsOneWithTheMessage`), 64 here and in the usage
    /// tests of `EvalCommandTests`, 70 in `RRuntimeTests.anRErrorEscapingEveryGuardIsReportedNotSilent`,
    /// 130 in the Ctrl-C tests.
    @Test func readmeExitStatusTableListsTheStatusesTheCLIUses() async throws {
        let readme = try String(contentsOfFile: repositoryRoot() + "/README.md", encoding: .utf8)
        let statuses = readme.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("| `") else { return nil }
            return Int(line.dropFirst(3).prefix { $0.isNumber })
        }
        #expect(statuses == [0, 1, 64, 70, 130])
    }
}

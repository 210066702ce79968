import Foundation
import PolybridgeTestSupport
import Testing

/// `eval --r FILE` / `eval --python FILE` run scripts as Rscript and python3 do.
@Suite struct EvalScriptTests {
    static let rScript = """
        args <- commandArgs(TRUE)
        print(args)
        cat(length(args), "arguments\\n")
        basename(sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE)))
        """
    static let pythonScript = """
        import sys
        print(sys.argv[1:])
        print(len(sys.argv) - 1, "arguments", __name__)
        sys.argv[0]
        """
    static let arguments = ["first", "--flag", "two words", "-x"]

    private func writeScript(_ text: String, named name: String) throws -> String {
        let path = try scratchDirectory() + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func rScriptFileWithArgumentsPrintsWhatRscriptPrints() async throws {
        let script = try writeScript(Self.rScript, named: "args.R")
        let expected = try await runCommand("Rscript", [script] + Self.arguments)
        let run = try await runPolybridge(["eval", "--r", script] + Self.arguments)
        #expect(expected.status == 0)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output == expected.output)
        #expect(run.output.contains("4 arguments"))
    }

    @Test func pythonScriptFileWithArgumentsPrintsWhatPython3Prints() async throws {
        let script = try writeScript(Self.pythonScript, named: "args.py")
        let expected = try await runCommand("python3", [script] + Self.arguments)
        let run = try await runPolybridge(["eval", "--python", script] + Self.arguments)
        #expect(expected.status == 0)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output == expected.output)
        #expect(run.output.contains("4 arguments __main__"))
    }

    @Test func dashReadsTheScriptFromStandardInputLikeRscriptAndPython3() async throws {
        let rScript = try writeScript(Self.rScript, named: "stdin.R")
        let pythonScript = try writeScript(Self.pythonScript + "\nprint(sys.argv[0])\n", named: "stdin.py")
        let polybridge = polybridgeExecutable().path
        let words = Self.arguments.map { "'\($0)'" }.joined(separator: " ")
        for (language, program, script) in [("--r", "Rscript", rScript), ("--python", "python3", pythonScript)] {
            let expected = try await runCommand("sh", ["-c", "\(program) - \(words) < '\(script)'"])
            let run = try await runCommand("sh", ["-c", "'\(polybridge)' eval \(language) - \(words) < '\(script)'"])
            #expect(expected.status == 0)
            #expect(run.status == 0, "\(run.error)")
            #expect(run.output == expected.output, "\(language)")
        }
    }

    @Test func inlineCodeStillRunsAndTakesArgumentsLikeRscriptE() async throws {
        let r = try await runPolybridge(["eval", "--r", "print(commandArgs(TRUE)); 1 + 1", "a", "b"])
        #expect(r.output == "[1] \"a\" \"b\"\n[1] 2\n")
        let python = try await runPolybridge(["eval", "--python", "import sys; sys.argv", "a"])
        #expect(python.output == "['-c', 'a']\n")
    }

    @Test func aMissingScriptPathIsAnErrorNotCode() async throws {
        let run = try await runPolybridge(["eval", "--r", "/nonexistent/analysis.R"])
        #expect(run.status == 64)
        #expect(run.error.contains("no script file '/nonexistent/analysis.R'"))
    }
}

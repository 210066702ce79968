import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// What steps print: on standard error, each line prefixed with the step's id, whether the
/// step ran in the command's process or in a worker process; standard output keeps the account.
@Suite struct PipelineStepOutputTests {
    static let noisy = baseFiles.merging([
        "rscripts/noisy.R": """
            noisy <- function(d, who = "") {
              print(paste("printed by", who))
              message("message from ", who)
              warning("careful, ", who)
              Sys.sleep(1)
              d
            }
            """,
        "pyscripts/noisy.py": """
            import sys, warnings
            def noisy(d):
                print("printed by py")
                print("to stderr from py", file=sys.stderr)
                warnings.warn("careful, py")
                return d
            """,
    ]) { $1 }

    /// Two R steps at once (the second on a worker process) and a Python step: every print,
    /// message and warning reaches the command's standard error with its step's prefix.
    @Test func rAndPythonOutputReachStandardErrorPrefixedWithTheStepIdAlsoFromAWorker() async throws {
        let project = try PipelineProject(PipelineStepOutputTests.noisy.merging(["p.yaml": """
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - {id: r_one, kind: r, script: rscripts/noisy.R, function: noisy, inputs: {d: raw}, params: {who: one}}
              - {id: r_two, kind: r, script: rscripts/noisy.R, function: noisy, inputs: {d: raw}, params: {who: two}}
              - {id: py, kind: python, script: pyscripts/noisy.py, function: noisy, inputs: {d: raw}}
            """]) { $1 })
        let run = try await runPolybridge("run", project.path("p.yaml"), "--no-cache")
        #expect(run.status == 0, "\(run.error)")
        let lines = run.error.split(separator: "\n").map(String.init)
        for who in ["one", "two"] {
            #expect(lines.contains("[r_\(who)] [1] \"printed by \(who)\""), "\(run.error)")
            #expect(lines.contains("[r_\(who)] message from \(who)"), "\(run.error)")
            #expect(lines.contains { $0.hasPrefix("[r_\(who)] Warning") && $0.hasSuffix("careful, \(who)") }, "\(run.error)")
        }
        #expect(lines.contains("[py] printed by py") && lines.contains("[py] to stderr from py"), "\(run.error)")
        #expect(lines.contains { $0.hasPrefix("[py] ") && $0.contains("UserWarning: careful, py") }, "\(run.error)")
        #expect(!run.output.contains("printed by") && !run.output.contains("careful"), "\(run.output)")
    }
}

/// `run --json`: standard output holds the JSON document alone, whatever the steps print.
@Suite struct PipelineJSONOutputTests {
    @Test func runJSONPrintsOnlyTheDocumentOnStandardOutputWhenStepsPrint() async throws {
        let project = try PipelineProject(baseFiles.merging([
            "rscripts/talk.R": "talk <- function(d) { print('from r'); system('echo shell from r'); d }\n",
            "pyscripts/talk.py": "import os\ndef talk(d):\n    print('from py')\n    os.system('echo shell from py')\n    return d\n",
            "p.yaml": """
                name: p
                steps:
                  - {id: raw, kind: read, path: data/small.csv}
                  - {id: r_talk, kind: r, script: rscripts/talk.R, function: talk, inputs: {d: raw}}
                  - {id: py_talk, kind: python, script: pyscripts/talk.py, function: talk, inputs: {d: r_talk}}
                """,
        ]) { $1 })
        let run = try await runPolybridge("run", project.path("p.yaml"), "--no-cache", "--json")
        #expect(run.status == 0, "\(run.error)")
        let report = try JSONDecoder().decode(PipelineRunReport.self, from: Data(run.output.utf8))
        #expect(report.steps.map(\.id) == ["raw", "r_talk", "py_talk"] && report.succeeded)
        let lines = run.error.split(separator: "\n").map(String.init)
        #expect(lines.contains("[r_talk] [1] \"from r\"") && lines.contains("[py_talk] from py"), "\(run.error)")
        #expect(run.error.contains("shell from r") && run.error.contains("shell from py"), "\(run.error)")
    }
}

/// A step that returns no rows from inputs that had some: a warning naming it, or, with
/// `fail_on_empty: true` or `--fail-on-empty`, a failure that keeps write steps from replacing
/// a good file with an empty one.
@Suite struct PipelineEmptyResultTests {
    static func project(failOnEmptyKey: String = "") throws -> PipelineProject {
        let project = try PipelineProject(baseFiles.merging([
            "rscripts/filter.R": "keep_big <- function(d) d[!is.na(d$x) & d$x > 100, ]\n",
            "p.yaml": """
                name: p
                steps:
                  - {id: raw, kind: read, path: data/small.csv}
                  - {id: big, kind: r, script: rscripts/filter.R, function: keep_big, inputs: {d: raw}\(failOnEmptyKey)}
                  - {id: out, kind: write, path: out/big.csv, inputs: {d: big}}
                """,
        ]) { $1 })
        try project.write("out/big.csv", "\"id\",\"x\"\n7,700\n")
        return project
    }

    @Test func anEmptyResultIsAWarningOnStandardErrorAndInTheRecord() async throws {
        let project = try PipelineEmptyResultTests.project()
        let run = try await runPolybridge("run", project.path("p.yaml"), "--no-cache", "--json")
        #expect(run.status == 0, "\(run.error)")
        #expect(run.error.contains("warning: step big returned 0 rows from 4 input rows"), "\(run.error)")
        let report = try JSONDecoder().decode(PipelineRunReport.self, from: Data(run.output.utf8))
        let big = try #require(report.steps.first { $0.id == "big" })
        #expect(big.warnings == ["step big returned 0 rows from 4 input rows"], "\(big.warnings)")
    }

    @Test(arguments: [("", ["--fail-on-empty"]), (", fail_on_empty: true", [])])
    func failOnEmptyFailsTheStepSkipsTheWriteAndKeepsTheGoodFile(key: String, flags: [String]) async throws {
        let project = try PipelineEmptyResultTests.project(failOnEmptyKey: key)
        let run = try await runPolybridge(["run", project.path("p.yaml"), "--no-cache", "--json"] + flags)
        #expect(run.status == 1, "\(run.error)")
        let report = try JSONDecoder().decode(PipelineRunReport.self, from: Data(run.output.utf8))
        #expect(report.steps.map(\.status) == [.done, .failed, .skipped], "\(report.steps)")
        #expect(report.steps[1].error?.contains("step big returned 0 rows from 4 input rows") == true, "\(String(describing: report.steps[1].error))")
        #expect(try String(contentsOfFile: project.path("out/big.csv"), encoding: .utf8) == "\"id\",\"x\"\n7,700\n")
    }

    @Test func failOnEmptyMustBeABoolean() async throws {
        let project = try PipelineEmptyResultTests.project(failOnEmptyKey: ", fail_on_empty: sometimes")
        let run = try await runPolybridge("run", project.path("p.yaml"))
        #expect(run.status == 1)
        #expect(run.error.contains("p.yaml:4: step 'big'") && run.error.contains("`fail_on_empty` must be true or false"), "\(run.error)")
    }
}

/// Python steps with inline `code`, as R steps have: inputs and parameters bound as variables,
/// the last expression's value the result; checked before anything runs; tracebacks show the
/// user's frames only.
@Suite struct PipelinePythonCodeTests {
    @Test func inlinePythonCodeSeesItsInputsAndParamsAndItsLastExpressionIsTheResult() async throws {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": """
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - id: py
                kind: python
                inputs: {d: raw}
                params: {k: 2}
                code: |
                  d = d.copy()
                  d["y"] = d["x"] * k
                  d
              - {id: out, kind: write, path: out/y.parquet, inputs: {d: py}}
            """]) { $1 })
        let run = try await runPolybridge("run", project.path("p.yaml"), "--no-cache")
        #expect(run.status == 0, "\(run.output)\(run.error)")
        let check = try await runCommand("python3", ["-c", "import pyarrow.parquet as pq; t = pq.read_table('\(project.path("out/y.parquet"))'); print(t.column('y').to_pylist(), t.column('id').to_pylist())"])
        #expect(check.output.trimmingCharacters(in: .whitespacesAndNewlines) == "[3.0, 5.0, None, 9.0] [1, 2, 3, 4]", "\(check.error)")
    }

    @Test func inlinePythonCodeThatDoesNotParseIsRefusedWithItsLine() async throws {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": """
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - {id: py, kind: python, inputs: {d: raw}, code: "d = d.copy()\\nd[ = 1\\nd"}
            """]) { $1 })
        let run = try await runPolybridge("run", project.path("p.yaml"), "--no-cache")
        #expect(run.status == 1)
        #expect(run.error.contains("p.yaml:4: step 'py'") && run.error.contains("SyntaxError") && run.error.contains("line 2 of the code"), "\(run.error)")
    }

    @Test func pythonTracebacksShowOnlyTheUsersFrames() async throws {
        let project = try PipelineProject(baseFiles.merging([
            "pyscripts/deep.py": "def helper(d):\n    return d['no_such_column']\n\ndef fails(d):\n    return helper(d)\n",
            "p.yaml": """
                name: p
                steps:
                  - {id: raw, kind: read, path: data/small.csv}
                  - {id: script, kind: python, script: pyscripts/deep.py, function: fails, inputs: {d: raw}}
                  - {id: inline, kind: python, inputs: {d: raw}, code: "x = 1\\nd.no_such_method()"}
                """,
        ]) { $1 })
        let run = try await runPolybridge("run", project.path("p.yaml"), "--no-cache", "--json")
        #expect(run.status == 1)
        let report = try JSONDecoder().decode(PipelineRunReport.self, from: Data(run.output.utf8))
        let script = try #require(report.steps.first { $0.id == "script" }?.error)
        let inline = try #require(report.steps.first { $0.id == "inline" }?.error)
        for error in [script, inline] {
            #expect(!error.contains("<polybridge") && !error.contains("_polybridge_pipeline") && !error.contains("ast.py")
                    && !error.contains("importlib") && !error.contains("site-packages"), "\(error)")
        }
        let scriptFrames = script.split(separator: "\n").filter { $0.hasPrefix("  File ") }
        #expect(scriptFrames.count == 2 && scriptFrames.allSatisfy { $0.contains("deep.py") }, "\(script)")
        #expect(script.contains("in fails") && script.contains("in helper") && script.contains("KeyError"), "\(script)")
        let inlineFrames = inline.split(separator: "\n").filter { $0.hasPrefix("  File ") }
        #expect(inlineFrames.count == 1 && inlineFrames[0].contains("<code of step inline>") && inlineFrames[0].contains("line 2"), "\(inline)")
        #expect(inline.contains("d.no_such_method()") && inline.contains("AttributeError"), "\(inline)")
    }
}

import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// Running pipelines: failures and what they skip, the cache, parallel R steps, and data that
/// crosses R and Python intact.
@Suite struct PipelineRunTests {
    func run(_ project: PipelineProject, _ options: PipelineRunOptions = PipelineRunOptions()) async throws -> PipelineRunReport {
        try await PipelineRunner.run(try PipelineFile.load(project.path("p.yaml")), options: options)
    }

    func record(_ report: PipelineRunReport, _ id: String) -> PipelineStepRecord { report.steps.first { $0.id == id }! }

    static let failing = """
        name: p
        steps:
          - {id: raw, kind: read, path: data/small.csv}
          - {id: r_bad, kind: r, script: rscripts/clean.R, function: fails, inputs: {d: raw}}
          - {id: after_r, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: r_bad}}
          - {id: py_bad, kind: python, script: pyscripts/features.py, function: fails, inputs: {d: raw}}
          - {id: after_py, kind: write, path: out/never.parquet, inputs: {d: py_bad}}
          - {id: good, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: raw}, params: {scale: 3}}
          - {id: good_out, kind: write, path: out/good.parquet, inputs: {d: good}}
        """

    @Test func failedStepsSkipTheirDependentsAndTheIndependentBranchFinishes() async throws {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": PipelineRunTests.failing]) { $1 })
        let report = try await run(project)
        #expect(!report.succeeded)
        #expect(record(report, "r_bad").status == .failed && record(report, "py_bad").status == .failed)
        #expect(record(report, "after_r").status == .skipped && record(report, "after_py").status == .skipped)
        #expect(record(report, "good").status == .done && record(report, "good_out").status == .done)
        // R's error: the script and function, R's message and the call stack down to inner().
        let rError = try #require(record(report, "r_bad").error)
        #expect(rError.contains("clean.R, function fails") && rError.contains("the data has no column 'zz'"), "\(rError)")
        #expect(rError.contains("R call stack:") && rError.contains("inner()") && rError.contains("fails(d = d)"), "\(rError)")
        // Python's traceback names the line that raised.
        let pyError = try #require(record(report, "py_bad").error)
        #expect(pyError.contains("Traceback") && pyError.contains("ValueError: no such feature: zz") && pyError.contains("features.py"), "\(pyError)")
        #expect(!FileManager.default.fileExists(atPath: project.path("out/never.parquet")))
        // The finished output is complete: pyarrow reads it and validates it in full.
        let check = try await runCommand("python3", ["-c", "import pyarrow.parquet as pq; t = pq.read_table('\(project.path("out/good.parquet"))'); t.validate(full=True); print(t.num_rows, t.column('x2').to_pylist())"])
        #expect(check.output.trimmingCharacters(in: .whitespacesAndNewlines) == "4 [9.0, 15.0, None, 27.0]", "\(check.error)")
    }

    @Test func failFastStopsAtTheFirstFailureAndTheCommandExitsOne() async throws {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": PipelineRunTests.failing]) { $1 })
        let report = try await run(project, PipelineRunOptions(failFast: true))
        #expect(report.steps.filter { $0.status == .failed }.count >= 1)
        #expect(!report.steps.contains { $0.status == .waiting || $0.status == .running })
        let cli = try await runPolybridge("run", project.path("p.yaml"), "--no-cache")
        #expect(cli.status == 1)
        #expect(cli.output.contains("FAILED r_bad") && cli.output.contains("skipped after_r"), "\(cli.output)")
    }

    @Test func theCacheHitsThenMissesAfterEditingAScriptOrAFileItSources() async throws {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": """
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - {id: clean, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: raw}}
              - {id: feat, kind: python, script: pyscripts/features.py, function: add, inputs: {d: clean}}
            """]) { $1 })
        let first = try await run(project)
        #expect(first.steps.map(\.status) == [.done, .done, .done])
        let second = try await run(project)
        #expect(second.steps.map(\.status) == [.cached, .cached, .cached])
        // The sourced helper changes: clean and everything after it rerun, with the reason.
        try project.write("rscripts/helpers.R", "double_it <- function(v) v * 4\n")
        let explained = try await PipelineRunner.explain(try PipelineFile.load(project.path("p.yaml")))
        #expect(explained.map(\.status) == [.cached, .waiting, .waiting])
        #expect(explained[1].reason?.contains("the code changed") == true, "\(String(describing: explained[1].reason))")
        #expect(explained[2].reason?.contains("input 'd' changed") == true, "\(String(describing: explained[2].reason))")
        let third = try await run(project)
        #expect(third.steps.map(\.status) == [.cached, .done, .done])
        // The Python script itself changes: only its step reruns.
        try project.write("pyscripts/features.py", baseFiles["pyscripts/features.py"]! + "\n# edited\n")
        let fourth = try await run(project)
        #expect(fourth.steps.map(\.status) == [.cached, .cached, .done])
        // --force reruns the step and everything after it (its output may differ).
        let forced = try await run(project, PipelineRunOptions(force: ["clean"]))
        #expect(forced.steps.map(\.status) == [.cached, .done, .done])
    }

    /// Output printed by R code on a worker (print, cat, system) goes to standard error and
    /// does not disturb the worker's answers; two folders' sibling modules of the same name
    /// stay apart.
    @Test func printingStepsOnWorkersAndSameNamedModulesInTwoFolders() async throws {
        let project = try PipelineProject(baseFiles.merging([
            "rscripts/noisy.R": "noisy <- function(d) { print('hello'); cat('more\\n'); system('echo from a shell'); Sys.sleep(1); d }\n",
            "a/utils.py": "WHERE = 'a'\n", "a/step.py": "import utils\ndef tag(d):\n    d = d.copy(); d['where'] = utils.WHERE; return d\n",
            "b/utils.py": "WHERE = 'b'\n", "b/step.py": "import utils\ndef tag(d):\n    d = d.copy(); d['where'] = utils.WHERE; return d\n",
            "p.yaml": """
                name: p
                steps:
                  - {id: raw, kind: read, path: data/small.csv}
                  - {id: n1, kind: r, script: rscripts/noisy.R, function: noisy, inputs: {d: raw}}
                  - {id: n2, kind: r, script: rscripts/noisy.R, function: noisy, inputs: {d: raw}}
                  - {id: pa, kind: python, script: a/step.py, function: tag, inputs: {d: raw}}
                  - {id: pb, kind: python, script: b/step.py, function: tag, inputs: {d: pa}}
                  - {id: out, kind: write, path: out/b.csv, inputs: {d: pb}}
                """,
        ]) { $1 })
        let report = try await run(project, PipelineRunOptions(useCache: false, workerExecutable: polybridgeExecutable()))
        #expect(report.succeeded, "\(report.steps.compactMap(\.error))")
        let written = try String(contentsOfFile: project.path("out/b.csv"), encoding: .utf8)
        let rows = written.split(separator: "\n").dropFirst()
        #expect(rows.count == 4 && rows.allSatisfy { $0.hasSuffix(",\"b\"") }, "\(written)")
    }

    /// Independent Python steps share this process's interpreter (its sys.path and sys.modules):
    /// eight of them at once, each importing its own folder's `utils`, each see their own.
    @Test func independentPythonStepsEachImportTheirOwnFoldersModules() async throws {
        let folders = ["a", "b", "c", "d", "e", "f", "g", "h"]
        var files: [String: String] = ["p.yaml": "name: p\nsteps:\n" + folders.map {
            "  - {id: step_\($0), kind: python, script: \($0)/step.py, function: where}\n"
                + "  - {id: out_\($0), kind: write, path: out/\($0).csv, inputs: {d: step_\($0)}}\n"
        }.joined()]
        for folder in folders {
            files["\(folder)/utils.py"] = "import time\ntime.sleep(0.05)\nWHERE = '\(folder)'\n"
            files["\(folder)/step.py"] = "import time\nimport pandas as pd\nimport utils\ndef where():\n    time.sleep(0.05)\n    return pd.DataFrame({'where': [utils.WHERE]})\n"
        }
        let project = try PipelineProject(files)
        for _ in 0..<3 {
            let report = try await run(project, PipelineRunOptions(useCache: false))
            #expect(report.succeeded, "\(report.steps.compactMap(\.error))")
            for folder in folders {
                let written = try? String(contentsOfFile: project.path("out/\(folder).csv"), encoding: .utf8)
                #expect(written == "\"where\"\n\"\(folder)\"\n", "\(folder): \(written ?? "nothing written")")
            }
        }
    }

    @Test func twoIndependentSlowRStepsOverlapInTime() async throws {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": """
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - {id: slow_a, kind: r, script: rscripts/clean.R, function: slow, inputs: {d: raw}, params: {seconds: 2}}
              - {id: slow_b, kind: r, script: rscripts/clean.R, function: slow, inputs: {d: raw}, params: {seconds: 2}}
            """]) { $1 })
        let report = try await run(project, PipelineRunOptions(useCache: false, workerExecutable: polybridgeExecutable()))
        let a = record(report, "slow_a"), b = record(report, "slow_b")
        #expect(a.status == .done && b.status == .done, "\(String(describing: a.error)) \(String(describing: b.error))")
        let (aStart, aEnd, bStart, bEnd) = (try #require(a.started), try #require(a.finished), try #require(b.started), try #require(b.finished))
        // Each sleeps 2 s; run one after the other they could not overlap.
        #expect(aEnd - aStart >= 2 && bEnd - bStart >= 2)
        #expect(aStart < bEnd && bStart < aEnd, "a \(aStart)–\(aEnd), b \(bStart)–\(bEnd)")
        #expect(b.rowsOut == 4 && a.rowsOut == 4)
    }

    /// Through pyarrow and pandas with Arrow dtypes (the default, "") every column comes back
    /// identical; through pandas' numpy-backed dtypes (`as: pandas`) too, except that a double's
    /// NaN becomes NA, as pandas itself has one missing marker for floats.
    @Test(arguments: [("pyarrow", "true,false"), ("pandas-arrow", "true,false"), ("pandas", "false,true"), ("", "true,false")])
    func everyColumnTypeSurvivesRToPythonToR(frames: String, expected: String) async throws {
        let project = try PipelineProject([
            "rscripts/make.R": """
                make <- function() {
                  data.frame(d = c(1.5, NA, NaN), i = c(1L, NA, 3L), l = c(TRUE, NA, FALSE), s = c("a", NA, "\\u00e9"),
                             f = factor(c("lo", "hi", NA), levels = c("lo", "hi")),
                             o = factor(c("b", "a", "b"), levels = c("b", "a"), ordered = TRUE),
                             day = as.Date(c("1969-12-31", NA, "2024-02-29")),
                             t = as.POSIXct(c("2024-03-10 01:30:00", NA, "1960-01-01 00:00:00"), tz = "America/New_York"),
                             row.names = c("r1", "r2", "r3"))
                }
                same <- function(back) {
                  want <- make()
                  nan_as_na <- want
                  nan_as_na$d[3] <- NA
                  data.frame(identical = identical(back, want), identical_with_nan_as_na = identical(back, nan_as_na))
                }
                """,
            "pyscripts/pass.py": """
                def through(d):
                    return d
                """,
            "p.yaml": """
                name: p
                steps:
                  - {id: made, kind: r, script: rscripts/make.R, function: make}
                  - {id: py, kind: python, script: pyscripts/pass.py, function: through, inputs: {d: made}\(frames.isEmpty ? "" : ", as: \(frames)")}
                  - {id: check, kind: r, script: rscripts/make.R, function: same, inputs: {back: py}}
                  - {id: verdict, kind: write, path: verdict.csv, inputs: {d: check}}
                """,
        ])
        let report = try await PipelineRunner.run(try PipelineFile.load(project.path("p.yaml")), options: PipelineRunOptions(useCache: false))
        #expect(report.succeeded, "\(report.steps.compactMap(\.error))")
        let verdict = try String(contentsOfFile: project.path("verdict.csv"), encoding: .utf8)
        #expect(verdict.contains(expected), "\(frames): \(verdict)")
    }

    @Test func aStepThatMutatesItsInputDoesNotChangeWhatAnotherStepSees() async throws {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": """
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - {id: clean, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: raw}}
              - {id: mutated, kind: python, script: pyscripts/features.py, function: mutate, inputs: {d: clean}}
              - {id: mutated_out, kind: write, path: out/mutated.csv, inputs: {d: mutated}}
              - {id: other, kind: python, script: pyscripts/features.py, function: add, inputs: {d: clean}}
              - {id: other_out, kind: write, path: out/other.csv, inputs: {d: other}}
              - {id: in_r, kind: r, code: "d$x", inputs: {d: clean}}
            """]) { $1 })
        let report = try await run(project, PipelineRunOptions(useCache: false))
        #expect(record(report, "mutated").status == .done && record(report, "other").status == .done)
        let mutated = try String(contentsOfFile: project.path("out/mutated.csv"), encoding: .utf8)
        let other = try String(contentsOfFile: project.path("out/other.csv"), encoding: .utf8)
        #expect(mutated.contains("-999"))
        #expect(!other.contains("-999") && other.contains("1.5"), "\(other)")
        // An inline R step that returns a vector, not a frame, fails with a clear message.
        #expect(record(report, "in_r").error?.contains("not a data frame or a named list of data frames") == true)
    }
}

/// `polybridge run` as a user runs it: the table, JSON, the plan with its Mermaid graph, the
/// graph file coloured by status, and the live display on a terminal.
@Suite struct RunCommandTests {
    static let pipeline = """
        name: p
        steps:
          - {id: raw, kind: read, path: data/small.csv}
          - {id: clean, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: raw}, params: {scale: 2}}
          - {id: feat, kind: python, script: pyscripts/features.py, function: add, inputs: {d: clean}}
          - {id: out, kind: write, path: out/feat.parquet, inputs: {d: feat}}
        """

    @Test func jsonReportAndTheGraphColouredByStatus() async throws {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": RunCommandTests.pipeline]) { $1 })
        let graph = project.path("graph.mmd")
        let run = try await runPolybridge("run", project.path("p.yaml"), "--json", "--graph", graph)
        #expect(run.status == 0, "\(run.error)")
        let report = try JSONDecoder().decode(PipelineRunReport.self, from: Data(run.output.utf8))
        #expect(report.steps.map(\.status) == [.done, .done, .done, .done])
        #expect(report.steps.map(\.rowsOut) == [4, 4, 4, 4] && report.steps[1].language == "R" && report.steps[2].language == "Python")
        let mermaid = try String(contentsOfFile: graph, encoding: .utf8)
        #expect(mermaid.hasPrefix("flowchart LR") && mermaid.contains("s_raw -->|d| s_clean") && mermaid.contains("class s_raw,s_clean,s_feat,s_out done"))
        // Warm: every step from the cache, and the table says so.
        let warm = try await runPolybridge("run", project.path("p.yaml"))
        #expect(warm.status == 0 && warm.output.contains("4 steps: 4 cached"), "\(warm.output)")
        #expect(warm.output.contains("hit"))
    }

    /// Every run ends with status 0, also when Arrow data that pyarrow made (the cached tables)
    /// is still being released on another thread as the command ends: with `exit`, pyarrow's
    /// C++ globals were destroyed first and such a release aborted the process ("cannot create
    /// default memory pool"), in about one warm run in five when four ran at once.
    @Test func warmRunsFourAtATimeAllEndWithStatusZero() async throws {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": RunCommandTests.pipeline]) { $1 })
        let cold = try await runPolybridge("run", project.path("p.yaml"))
        #expect(cold.status == 0, "\(cold.error)")
        for round in 1...6 {
            let runs = try await withThrowingTaskGroup(of: PolybridgeRun.self) { group in
                for _ in 0..<4 { group.addTask { try await runPolybridge("run", project.path("p.yaml")) } }
                return try await group.reduce(into: [PolybridgeRun]()) { $0.append($1) }
            }
            for run in runs {
                #expect(run.status == 0 && run.output.contains("4 steps: 4 cached"),
                        "round \(round): status \(run.status)\n\(run.output)\n\(run.error.prefix(400))")
            }
        }
    }

    @Test func dryRunPrintsThePlanAndRunsNothing() async throws {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": RunCommandTests.pipeline]) { $1 })
        let dry = try await runPolybridge("run", project.path("p.yaml"), "--dry-run")
        #expect(dry.status == 0, "\(dry.error)")
        #expect(dry.output.contains("clean (r) [d ← raw] — runs: no cached result"), "\(dry.output)")
        #expect(dry.output.contains("```mermaid") && dry.output.contains("s_feat -->|d| s_out"))
        #expect(!FileManager.default.fileExists(atPath: project.path("out/feat.parquet")))
        let invalid = try await runPolybridge("run", project.path("missing.yaml"))
        #expect(invalid.status == 1 && invalid.error.contains("missing.yaml"))
    }

    @Test func aTerminalShowsTheLiveDisplay() async throws {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": RunCommandTests.pipeline]) { $1 })
        let run = try await runPolybridgeOnATerminal("run", project.path("p.yaml"))
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("4/4 steps finished"), "\(run.output)")
        #expect(run.output.contains("✓ clean") && run.output.contains("done"))
    }
}

/// polars frames: every column type comes back identical (polars has no index, so the frame
/// has no row names here).
@Suite struct PolarsStepTests {
    @Test func aPolarsStepPassesEveryColumnTypeThrough() async throws {
        let project = try PipelineProject([
            "rscripts/make.R": """
                make <- function() {
                  data.frame(d = c(1.5, NA, NaN), i = c(1L, NA, 3L), l = c(TRUE, NA, FALSE), s = c("a", NA, "\\u00e9"),
                             f = factor(c("lo", "hi", NA), levels = c("lo", "hi")),
                             day = as.Date(c("1969-12-31", NA, "2024-02-29")),
                             t = as.POSIXct(c("2024-03-10 01:30:00", NA, "1960-01-01 00:00:00"), tz = "America/New_York"))
                }
                same <- function(back) data.frame(identical = identical(back, make()))
                """,
            "pyscripts/pass.py": """
                import polars as pl

                def through(d):
                    assert isinstance(d, pl.DataFrame)
                    return d
                """,
            "p.yaml": """
                name: p
                steps:
                  - {id: made, kind: r, script: rscripts/make.R, function: make}
                  - {id: py, kind: python, script: pyscripts/pass.py, function: through, inputs: {d: made}, as: polars}
                  - {id: check, kind: r, script: rscripts/make.R, function: same, inputs: {back: py}}
                  - {id: verdict, kind: write, path: verdict.csv, inputs: {d: check}}
                """,
        ])
        let report = try await PipelineRunner.run(try PipelineFile.load(project.path("p.yaml")), options: PipelineRunOptions(useCache: false))
        #expect(report.succeeded, "\(report.steps.compactMap(\.error))")
        #expect(try String(contentsOfFile: project.path("verdict.csv"), encoding: .utf8).contains("true"))
    }
}

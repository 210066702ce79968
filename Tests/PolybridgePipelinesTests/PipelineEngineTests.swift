import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// `polybridge run --executor ray|dask`: R and Python steps run in `polybridge worker`
/// processes that the engine's workers own (not in the command, not in the engine's own
/// processes), independent steps at the same time, data crossing R and Python through the
/// engine intact, an R error named with its step, and no process left behind.
@Suite struct PipelineEngineTests {
    static let files: [String: String] = [
        "rscripts/steps.R": """
            make <- function() {
              data.frame(d = c(1.5, NA, NaN), i = c(1L, NA, 3L), l = c(TRUE, NA, FALSE), s = c("a", NA, "\\u00e9"),
                         f = factor(c("lo", "hi", NA), levels = c("lo", "hi")),
                         day = as.Date(c("1969-12-31", NA, "2024-02-29")),
                         t = as.POSIXct(c("2024-03-10 01:30:00", NA, "1960-01-01 00:00:00"), tz = "America/New_York"),
                         row.names = c("r1", "r2", "r3"))
            }
            same <- function(back) data.frame(identical = identical(back, make()))
            slow <- function(seconds) {
              started <- as.numeric(Sys.time())
              Sys.sleep(seconds)
              data.frame(pid = Sys.getpid(), started = started, ended = as.numeric(Sys.time()), folder = basename(getwd()))
            }
            fails <- function(d) stop("no column 'zz' in this data")
            """,
        "pyscripts/steps.py": """
            import os
            import pandas as pd

            def through(d):
                return d

            def where(d):
                return pd.DataFrame({"pid": [os.getpid()], "rows": [len(d)]})
            """,
        "p.yaml": """
            name: engine
            steps:
              - {id: made, kind: r, script: rscripts/steps.R, function: make}
              - {id: py, kind: python, script: pyscripts/steps.py, function: through, inputs: {d: made}}
              - {id: check, kind: r, script: rscripts/steps.R, function: same, inputs: {back: py}}
              - {id: py_where, kind: python, script: pyscripts/steps.py, function: where, inputs: {d: made}}
              - {id: slow_a, kind: r, script: rscripts/steps.R, function: slow, params: {seconds: 4}}
              - {id: slow_b, kind: r, script: rscripts/steps.R, function: slow, params: {seconds: 4}}
              - {id: bad, kind: r, script: rscripts/steps.R, function: fails, inputs: {d: made}}
              - {id: verdict, kind: write, path: out/verdict.csv, inputs: {d: check}}
              - {id: py_where_out, kind: write, path: out/py_where.csv, inputs: {d: py_where}}
              - {id: slow_a_out, kind: write, path: out/slow_a.csv, inputs: {d: slow_a}}
              - {id: slow_b_out, kind: write, path: out/slow_b.csv, inputs: {d: slow_b}}
            """,
    ]

    /// The rows of a small CSV the pipeline wrote, read by Python's csv module.
    func rows(_ path: String) async throws -> [[String: String]] {
        let read = try await runCommand("python3", ["-c", "import csv, json, sys; print(json.dumps(list(csv.DictReader(open(sys.argv[1])))))", path])
        return try JSONDecoder().decode([[String: String]].self, from: Data(read.output.utf8))
    }

    @Test(arguments: ClusterEngine.allCases)
    func stepsRunOnTheEnginesWorkersInParallelAndLeaveNothing(engine: ClusterEngine) async throws {
        let project = try PipelineProject(PipelineEngineTests.files)
        let watched = try await runPolybridgeWatchingProcesses(["run", project.path("p.yaml"), "--executor", engine.rawValue,
                                                                "--workers", "2", "--no-cache", "--json"])
        // The failing step fails the run (exit 1); everything else is done.
        #expect(watched.run.status == 1, "\(watched.run.error)")
        let report = try JSONDecoder().decode(PipelineRunReport.self, from: Data(watched.run.output.utf8))
        for step in report.steps where step.id != "bad" {
            #expect(step.status == .done, "\(step.id): \(step.error ?? "")")
        }
        let bad = try #require(report.steps.first { $0.id == "bad" })
        #expect(bad.status == .failed)
        #expect(bad.error?.contains("steps.R, function fails") == true && bad.error?.contains("no column 'zz' in this data") == true,
                "\(bad.error ?? "")")

        // R → Python (on the engine) → R: R's identical() on the round trip.
        #expect(try await rows(project.path("out/verdict.csv")) == [["identical": "true"]])

        // The steps ran in polybridge worker processes below the command, each owned by an
        // engine worker (its parent is not the command itself), in the pipeline's folder.
        let a = try #require(try await rows(project.path("out/slow_a.csv")).first)
        let b = try #require(try await rows(project.path("out/slow_b.csv")).first)
        let python = try #require(try await rows(project.path("out/py_where.csv")).first)
        for pid in [a["pid"], b["pid"], python["pid"]].compactMap({ $0.flatMap { Int32($0) } }) {
            #expect(watched.workers.contains(pid), "step pid \(pid) is not one of the workers \(watched.workers)")
            #expect(watched.workerParents[pid] != watched.pid, "step pid \(pid) is the command's own worker, not the engine's")
        }
        #expect(python["rows"] == "3")
        #expect(a["folder"] == URL(fileURLWithPath: project.folder).lastPathComponent)
        #expect(a["pid"] != b["pid"], "the two slow steps ran on one worker")
        // Independent steps at once: each sleeps 4 s, so one after the other they could not overlap.
        let (aStart, aEnd) = (Double(a["started"] ?? "") ?? 0, Double(a["ended"] ?? "") ?? 0)
        let (bStart, bEnd) = (Double(b["started"] ?? "") ?? 0, Double(b["ended"] ?? "") ?? 0)
        #expect(aStart < bEnd && bStart < aEnd, "a \(aStart)–\(aEnd), b \(bStart)–\(bEnd)")

        // Nothing the engine started is left running.
        #expect(!watched.seen.isEmpty)
        let left = try await processesLeftBehind(watched.seen)
        #expect(left.isEmpty, "left behind: \(left)")
    }
}

import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// What a `polybridge run` leaves on the machine: no forked children.
@Suite struct PipelineProcessCleanupTests {
    /// An R step's `mclapply` children end with the step (they inherited the R thread's mask,
    /// SIGUSR1 blocked, and waited forever for the parent's permission to exit).
    @Test func anRStepsMclapplyChildrenEndWithTheStep() async throws {
        let project = try PipelineProject([
            "rscripts/fork.R": "forked <- function() data.frame(pid = unlist(parallel::mclapply(1:2, function(i) Sys.getpid(), mc.cores = 2)))\n",
            "p.yaml": """
                name: p
                steps:
                  - {id: forked, kind: r, script: rscripts/fork.R, function: forked}
                  - {id: out, kind: write, path: pids.csv, inputs: {d: forked}}
                """,
        ])
        let run = try await runPolybridgeWritingToFiles(["run", project.path("p.yaml"), "--no-cache"])
        #expect(run.status == 0, "\(run.output)\(run.error)")
        let children = processIDs(in: (try? String(contentsOfFile: project.path("pids.csv"), encoding: .utf8)) ?? "")
        #expect(children.count == 2)
        let left = try await stillRunningAfterAWhile(children)
        #expect(left.isEmpty, "forked children still running: \(left)")
    }
}

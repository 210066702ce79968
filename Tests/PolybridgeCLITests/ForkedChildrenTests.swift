import Foundation
import PolybridgeTestSupport
import Testing

/// Processes forked from the embedded R or Python (mclapply, mcparallel, os.fork) start with
/// default signals, whatever the forking thread blocks, so they end when told to.
@Suite struct ForkedChildrenTests {
    /// R code that forks two children, waits for their results, and prints their process IDs.
    static let forkingR = [
        "pids <- unlist(parallel::mclapply(1:2, function(i) Sys.getpid(), mc.cores = 2)); cat(pids, '\\n')",
        "jobs <- lapply(1:2, function(i) parallel::mcparallel(Sys.getpid())); cat(unlist(parallel::mccollect(jobs)), '\\n')",
    ]

    /// Children of `polybridge eval` end with their job: parallel's children wait for SIGUSR1
    /// from the parent before they exit, and a child that inherited it blocked waited forever.
    @Test(arguments: forkingR)
    func parallelsForkedChildrenEndWithTheirJob(code: String) async throws {
        let run = try await runPolybridgeWritingToFiles(["eval", "--r", code])
        #expect(run.status == 0, "\(run.error)")
        let children = processIDs(in: run.output)
        #expect(children.count == 2, "\(run.output)")
        let left = try await stillRunningAfterAWhile(children)
        #expect(left.isEmpty, "forked children still running: \(left)")
    }

    /// A child forked from embedded Python ends on SIGTERM (multiprocessing's terminate(), a
    /// plain `kill`); the Python thread blocks SIGTERM, and the child used to inherit that.
    @Test func aChildForkedFromPythonEndsOnSIGTERM() async throws {
        let code = """
            import os, signal, time
            pid = os.fork()
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            time.sleep(0.5)
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
                done, status = os.waitpid(pid, 0)
                status = -1
            print("ended by signal", os.WTERMSIG(status) if status >= 0 and os.WIFSIGNALED(status) else "none")
            """
        let run = try await runPolybridge(["eval", "--python", code])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output == "ended by signal \(SIGTERM)\n")
    }
}

import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// However a command ends short of SIGKILL (Ctrl-C, `os._exit`, a reader that went away), R's
/// session folder (`Rtmp…`) and the workers' folders leave its TMPDIR empty. Each run has a
/// TMPDIR of its own.
@Suite struct AbruptEndTests {
    /// What is left in `folder`, which is then removed.
    func leftovers(in folder: String) throws -> [String] {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try FileManager.default.contentsOfDirectory(atPath: folder)
    }

    @Test func ctrlCDuringEvalPythonLeavesNoTemporaryFolder() async throws {
        let temporary = try scratchDirectory()
        let child = try RunningPolybridge(["eval", "--python", "import time\nprint('before')\ntime.sleep(120)"], environment: ["TMPDIR": temporary])
        #expect(await child.send(SIGINT, whenOutputContains: "before\n"))
        let run = await child.finish()
        #expect(run.exited && run.status == 130, "\(run.error)")
        #expect(try leftovers(in: temporary) == [])
    }

    /// A whole fit has no Ctrl-C handler of its own: the process ends at once with 130.
    @Test func ctrlCDuringFitLeavesNoTemporaryFolder() async throws {
        let parquet = try await FitCommandTests().mtcarsParquet()
        let temporary = try scratchDirectory()
        let child = try RunningPolybridge(["fit", "--data", parquet, "--formula", "mpg ~ I(wt + 0 * length(Sys.sleep(60)))"],
                                          environment: ["TMPDIR": temporary])
        // R sleeps in select() inside the fit.
        #expect(await child.waitUntilAThreadIsInSelect(atMost: 60))
        child.send(SIGINT)
        let run = await child.finish()
        #expect(run.exited && run.status == 130, "\(run.error)")
        #expect(try leftovers(in: temporary) == [])
    }

    /// `os._exit` would skip every exit handler: in the command's own Python it is an error, so
    /// the command ends as after any error, its folders removed.
    @Test func osExitInEvalPythonLeavesNoTemporaryFolder() async throws {
        let temporary = try scratchDirectory()
        let run = try await runPolybridge(["eval", "--python", "import os\nos._exit(3)"], environment: ["TMPDIR": temporary])
        #expect(run.status == 1 && run.error.contains("os._exit(3) is not available inside polybridge"), "\(run.error)")
        #expect(try leftovers(in: temporary) == [])
    }

    /// `polybridge eval ... | head -1`: the command ends by SIGPIPE as any program would (status
    /// 141 in the shell), its folders removed first. SIGPIPE starts with its default action.
    @Test func aClosedOutputPipeLeavesNoTemporaryFolder() async throws {
        let temporary = try scratchDirectory()
        let script = """
            TMPDIR='\(temporary)' python3 -c 'import os, signal, sys; signal.signal(signal.SIGPIPE, signal.SIG_DFL); \
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGPIPE]); os.execv(sys.argv[1], sys.argv[1:])' \
            '\(polybridgeExecutable().path)' eval --r 'for (i in 1:200000) cat(i, "\\n")' | head -1
            exit "${PIPESTATUS[0]}"
            """
        let run = try await runCommand("bash", ["-c", script])
        #expect(run.output == "1 \n")
        #expect(run.status == 128 + SIGPIPE, "\(run.error)")
        #expect(try leftovers(in: temporary) == [])
    }
}

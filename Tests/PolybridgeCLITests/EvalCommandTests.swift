import Foundation
import PolybridgeTestSupport
import Testing

@Suite struct EvalCommandTests {
    @Test func rErrorExitsOneWithTheMessage() async throws {
        let run = try await runPolybridge(["eval", "--r", "stop(\"boom\")"])
        #expect(run.status == 1)
        #expect(run.error.contains("boom"))
    }

    @Test func rValuePrintsLikeRscript() async throws {
        let run = try await runPolybridge(["eval", "--r", "x <- c(2L, NA); x"])
        #expect(run.status == 0)
        #expect(run.output == "[1]  2 NA\n")
    }

    @Test func pythonExceptionExitsOneWithTypeAndTraceback() async throws {
        let run = try await runPolybridge(["eval", "--python", "{}['missing']"])
        #expect(run.status == 1)
        #expect(run.error.contains("KeyError"))
        #expect(run.error.contains("Traceback"))
    }

    @Test func pythonCodeRunsExactlyOnceEvenWhenItRaisesSyntaxErrorAtRunTime() async throws {
        // The expression compiles; eval() inside it raises SyntaxError only when it runs.
        let run = try await runPolybridge(["eval", "--python", "print('once') or eval('1 +')"])
        #expect(run.status == 1)
        #expect(run.output == "once\n")
        #expect(run.error.contains("SyntaxError"))
    }

    @Test func pythonStatementsThenAnExpressionEchoTheExpression() async throws {
        #expect(try await runPolybridge(["eval", "--python", "x = 5\nx * 2"]).output == "10\n")
        #expect(try await runPolybridge(["eval", "--python", "import math; math.pi"]).output.hasPrefix("3.14159"))
    }

    @Test func pythonSysExitSetsTheExitStatus() async throws {
        let run = try await runPolybridge(["eval", "--python", "import sys; sys.exit(3)"])
        #expect(run.status == 3)
    }

    @Test func pythonExpressionPrintsItsRepr() async throws {
        let run = try await runPolybridge(["eval", "--python", "[1, 'a', None]"])
        #expect(run.status == 0)
        #expect(run.output == "[1, 'a', None]\n")
    }

    @Test func parseErrorExitsOneNotASignal() async throws {
        let run = try await runPolybridge(["eval", "--r", "x <- '\\q'"])
        #expect(run.status == 1)
        #expect(run.error.contains("parse"))
    }

    /// R's per-session temporary directory is removed when the command ends (R is never
    /// finalised; the command ends through quick_exit, whose handler removes it).
    @Test func rsTemporaryDirectoryIsGoneAfterTheCommand() async throws {
        let run = try await runPolybridge(["eval", "--r", "writeLines('x', file.path(tempdir(), 'f.txt')); cat(tempdir())"])
        #expect(run.status == 0, "\(run.error)")
        let folder = run.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(folder.contains("Rtmp"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: folder), "\(folder) is still there")
    }

    @Test func ctrlCInterruptsALongRComputation() async throws {
        // Bounded: a Ctrl-C that is lost ends the loop after two minutes with status 0, not a hang.
        let child = try RunningPolybridge(["eval", "--r", "cat('started\\n'); deadline <- Sys.time() + 120; while (Sys.time() < deadline) {}"])
        // Once R printed, it is inside the loop with the Ctrl-C forwarder installed.
        #expect(await child.send(SIGINT, whenOutputContains: "started\n"))
        let run = await child.finish()
        #expect(run.exited)
        #expect(run.status == 130)
        #expect(run.output == "started\n")
    }

    @Test func ctrlCDuringSysSleepKeepsWhatWasPrintedAndExits130() async throws {
        // Traced: a lost Ctrl-C here (seen twice in full runs) shows where it went.
        let child = try RunningPolybridge(["eval", "--r", "cat('before\\n'); Sys.sleep(30)"], environment: ["POLYBRIDGE_TRACE_JOBS": "1"])
        // While R sleeps in select() it installs a SIGINT handler that longjmps into the R
        // thread: a signal handled on any other thread crashed the process. The Ctrl-C goes
        // when a thread waits in select(), or after 10 s in any case: either way it must end
        // the sleep with 130.
        #expect(await child.send(SIGINT, whenOutputContains: "before\n", selectWithin: 10))
        let run = await child.finish()
        #expect(run.exited, "ended by signal \(run.status): \(run.error)")
        #expect(run.status == 130, "\(run.error)")
        #expect(run.output == "before\n")
        #expect(run.error.contains("interrupted"))
    }

    /// `kill` (SIGTERM) ends the command even when whatever started it had SIGTERM blocked (a
    /// job runner's worker thread, say): the command sets its signal mask, it does not inherit it.
    @Test func sigtermEndsTheCommandAlsoWhenItStartedWithSIGTERMBlocked() async throws {
        let child = try RunningPolybridge(["eval", "--r", "cat('started\\n'); Sys.sleep(60)"], blocking: [SIGTERM])
        #expect(await child.send(SIGTERM, whenOutputContains: "started\n"))
        let run = await child.finish()
        #expect(!run.exited && run.status == SIGTERM, "exited: \(run.exited), status \(run.status)")
    }

    @Test func ctrlCDuringPythonKeepsWhatWasPrintedAndExits130() async throws {
        let child = try RunningPolybridge(["eval", "--python", "import time\nprint('before')\ntime.sleep(120)"])
        #expect(await child.send(SIGINT, whenOutputContains: "before\n"))
        let run = await child.finish()
        #expect(run.exited)
        #expect(run.status == 130)
        #expect(run.output == "before\n")
    }

    // MARK: Output as Rscript and the REPL give it

    @Test func rOutputStreamsAsItIsPrinted() async throws {
        let gate = temporaryPath("gate")
        // R prints, then waits for a file the test creates only after it has read that line.
        let child = try RunningPolybridge(["eval", "--r", """
            print(1L)
            for (i in 1:600) { if (file.exists("\(gate)")) break; Sys.sleep(0.1) }
            cat(if (file.exists("\(gate)")) "saw the gate\\n" else "gave up\\n")
            """])
        #expect(await child.waitForOutput(containing: "[1] 1\n"))
        #expect(FileManager.default.createFile(atPath: gate, contents: nil))
        let run = await child.finish()
        #expect(run.status == 0)
        #expect(run.output == "[1] 1\nsaw the gate\n")
    }

    @Test func pythonOutputStreamsAsItIsPrinted() async throws {
        let gate = temporaryPath("gate")
        let child = try RunningPolybridge(["eval", "--python", """
            import os, time
            print("first")
            for _ in range(600):
                if os.path.exists("\(gate)"):
                    break
                time.sleep(0.1)
            print("saw the gate" if os.path.exists("\(gate)") else "gave up")
            """], environment: bufferedPython)
        #expect(await child.waitForOutput(containing: "first\n"))
        #expect(FileManager.default.createFile(atPath: gate, contents: nil))
        let run = await child.finish()
        #expect(run.status == 0)
        #expect(run.output == "first\nsaw the gate\n")
    }

    @Test func rAndPythonOutputKeepTheirOrderThroughReticulate() async throws {
        // R prints, Python prints, Python calls R which prints, Python prints, R prints.
        let run = try await runPolybridge(["eval", "--r", #"""
            cat("r1\n"); reticulate::py_run_string("print('p1'); r.cat('r2\\n'); print('p2')"); cat("r3\n")
            """#], environment: bufferedPython)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output == "r1\np1\nr2\np2\nr3\n")
    }

    @Test func pythonPrintedOutputComesBeforeTheEchoedValue() async throws {
        let run = try await runPolybridge(["eval", "--python", "print('printed')\n41 + 1"], environment: bufferedPython)
        #expect(run.output == "printed\n42\n")
    }

    @Test func messagesGoToStandardErrorAndStandardOutputStaysClean() async throws {
        let run = try await runPolybridge(["eval", "--r", "message('hi'); cat('out\\n')"])
        #expect(run.status == 0)
        #expect(run.output == "out\n")
        #expect(run.error == "hi\n")
    }

    @Test func warningsAreReportedOnStandardErrorLikeRscript() async throws {
        let code = "f <- function() warning('careful'); f(); cat('done\\n'); warning('top level'); for (i in 1:12) warning(i)"
        let run = try await runPolybridge(["eval", "--r", code])
        let rscript = try await runCommand("Rscript", ["-e", code])
        #expect(run.status == 0)
        #expect(run.output == "done\n")
        #expect(run.error == rscript.error)
        #expect(run.error.hasPrefix("Warning message:\nIn f() : careful\n"))
    }

    @Test func warningsBeforeAnErrorAreReportedAfterItLikeRscript() async throws {
        let code = "f <- function() { warning('first'); stop('boom') }; cat('before\\n'); f()"
        let run = try await runPolybridge(["eval", "--r", code])
        let rscript = try await runCommand("Rscript", ["-e", code])
        #expect(run.status == 1)
        #expect(run.output == "before\n")
        #expect(run.error == "Error in f() : boom\nIn addition: Warning message:\nIn f() : first\n")
        #expect(run.error + "Execution halted\n" == rscript.error)
    }

    @Test func rGraphicsDevicesAreClosedSoAPNGIsComplete() async throws {
        let plot = temporaryPath("plot.png")
        let run = try await runPolybridge(["eval", "--r", "png('\(plot)'); hist(rnorm(100))"])
        #expect(run.status == 0, "\(run.error)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plot)))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "PNG signature")
        // The IEND chunk (empty, with its CRC) is written only when the device closes.
        #expect(bytes.suffix(12) == [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82], "IEND chunk")
    }

    // MARK: Usage mistakes

    @Test func codeWithoutROrPythonNamesTheStrayArgument() async throws {
        let run = try await runPolybridge(["eval", "print(1)"])
        #expect(run.status == 64)
        #expect(run.error.contains("unexpected argument 'print(1)': pass code with --r CODE or --python CODE"))
        #expect(run.error.contains("Usage: polybridge eval"))
    }

    @Test func mistypedOptionIsNamedWithASuggestion() async throws {
        let run = try await runPolybridge(["eval", "--pyton", "1"])
        #expect(run.status == 64)
        #expect(run.error.contains("Unknown option '--pyton'. Did you mean '--python'?"))
    }

    @Test func evalNeedsExactlyOneLanguage() async throws {
        for arguments in [["eval"], ["eval", "--r", "1", "--python", "1"]] {
            let run = try await runPolybridge(arguments)
            #expect(run.status == 64)
            #expect(run.error.contains("give exactly one of --r CODE or --python CODE"))
        }
    }

    @Test func doctorReportsBothRuntimes() async throws {
        let run = try await runPolybridge(["doctor", "--json"])
        #expect(run.status == 0, "\(run.output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        #expect((report["r"] as? [String: Any])?["version"] as? String != nil)
        #expect((report["python"] as? [String: Any])?["pyarrow"] as? String != nil)
    }

    @Test func doctorFailsWithAFixWhenPythonIsMissing() async throws {
        let run = try await runPolybridge(["doctor"], environment: ["POLYBRIDGE_PYTHON": "/nonexistent/python3"])
        #expect(run.status == 1)
        #expect(run.output.contains("fix:"))
    }
}

/// The environment of a user who did not ask for unbuffered Python (this machine's has
/// PYTHONUNBUFFERED=1; Python reads an empty value as unset).
let bufferedPython = ["PYTHONUNBUFFERED": ""]

/// A path in a directory of its own under the temporary directory (parallel tests never share one).
func temporaryPath(_ name: String) -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("polybridge-cli-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent(name).path
}

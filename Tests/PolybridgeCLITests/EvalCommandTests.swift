import Foundation
import PolybridgeTestSupport
import Testing

@Suite struct EvalCommandTests {
    @Test func rErrorExitsOneWithTheMessage() throws {
        let run = try runPolybridge(["eval", "--r", "stop(\"boom\")"])
        #expect(run.status == 1)
        #expect(run.error.contains("boom"))
    }

    @Test func rValuePrintsLikeRscript() throws {
        let run = try runPolybridge(["eval", "--r", "x <- c(2L, NA); x"])
        #expect(run.status == 0)
        #expect(run.output == "[1]  2 NA\n")
    }

    @Test func pythonExceptionExitsOneWithTypeAndTraceback() throws {
        let run = try runPolybridge(["eval", "--python", "{}['missing']"])
        #expect(run.status == 1)
        #expect(run.error.contains("KeyError"))
        #expect(run.error.contains("Traceback"))
    }

    @Test func pythonCodeRunsExactlyOnceEvenWhenItRaisesSyntaxErrorAtRunTime() throws {
        // The expression compiles; eval() inside it raises SyntaxError only when it runs.
        let run = try runPolybridge(["eval", "--python", "print('once') or eval('1 +')"])
        #expect(run.status == 1)
        #expect(run.output == "once\n")
        #expect(run.error.contains("SyntaxError"))
    }

    @Test func pythonStatementsThenAnExpressionEchoTheExpression() throws {
        #expect(try runPolybridge(["eval", "--python", "x = 5\nx * 2"]).output == "10\n")
        #expect(try runPolybridge(["eval", "--python", "import math; math.pi"]).output.hasPrefix("3.14159"))
    }

    @Test func pythonSysExitSetsTheExitStatus() throws {
        let run = try runPolybridge(["eval", "--python", "import sys; sys.exit(3)"])
        #expect(run.status == 3)
    }

    @Test func pythonExpressionPrintsItsRepr() throws {
        let run = try runPolybridge(["eval", "--python", "[1, 'a', None]"])
        #expect(run.status == 0)
        #expect(run.output == "[1, 'a', None]\n")
    }

    @Test func parseErrorExitsOneNotASignal() throws {
        let run = try runPolybridge(["eval", "--r", "x <- '\\q'"])
        #expect(run.status == 1)
        #expect(run.error.contains("parse"))
    }

    @Test func ctrlCInterruptsALongRComputation() throws {
        let process = Process()
        process.executableURL = polybridgeExecutable()
        process.arguments = ["eval", "--r", "cat('started\\n'); repeat {}"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        // Wait until R is inside the loop, then send SIGINT as a terminal's Ctrl-C would.
        Thread.sleep(forTimeInterval: 1.5)
        for _ in 0..<50 where process.isRunning {
            kill(process.processIdentifier, SIGINT)
            Thread.sleep(forTimeInterval: 0.2)
        }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 130)
    }

    @Test func doctorReportsBothRuntimes() throws {
        let run = try runPolybridge(["doctor", "--json"])
        #expect(run.status == 0, "\(run.output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        #expect((report["r"] as? [String: Any])?["version"] as? String != nil)
        #expect((report["python"] as? [String: Any])?["pyarrow"] as? String != nil)
    }

    @Test func doctorFailsWithAFixWhenPythonIsMissing() throws {
        let run = try runPolybridge(["doctor"], environment: ["POLYBRIDGE_PYTHON": "/nonexistent/python3"])
        #expect(run.status == 1)
        #expect(run.output.contains("fix:"))
    }
}

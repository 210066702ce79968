import Foundation
import PolybridgeTestSupport
import Testing
@testable import PolybridgeRuntime

/// A venv made in the test, selected through POLYBRIDGE_PYTHON, must be the interpreter embedded.
///
/// The embedding happens in a child process (`polybridge doctor --json`) because one process
/// can embed only one Python.
@Suite struct PythonVenvTests {
    @Test func venvSelectedByEnvironmentVariableIsHonoured() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("polybridge-venv-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let python = try #require(RuntimeEnvironment.which("python3"))
        let made = try await runCommand(python, ["-m", "venv", "--system-site-packages", "--without-pip", directory.path])
        try #require(made.status == 0, "\(made.error)")
        let venvPython = directory.appendingPathComponent("bin/python").path

        let result = try await runPolybridge(["doctor", "--json"], environment: ["POLYBRIDGE_PYTHON": venvPython])
        #expect(result.status == 0, "doctor failed: \(result.output)")
        let report = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        let pythonReport = report?["python"] as? [String: Any]
        #expect(pythonReport?["executable"] as? String == venvPython)
        #expect(pythonReport?["embeddedPrefix"] as? String == directory.path)
        #expect((pythonReport?["foundVia"] as? String)?.contains("POLYBRIDGE_PYTHON") == true)
    }
}

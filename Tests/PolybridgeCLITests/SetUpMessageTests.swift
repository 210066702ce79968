import Foundation
import PolybridgeTestSupport
import Testing

/// Messages about a missing Python package say which Python and how to fix it, from anywhere.
@Suite struct SetUpMessageTests {
    /// A fresh virtual environment (no pyarrow, no pandas) and its python3.
    private func pythonWithoutPyarrow() async throws -> String {
        let folder = try scratchDirectory() + "/venv"
        let made = try await runCommand("python3", ["-m", "venv", "--without-pip", folder])
        #expect(made.status == 0, "\(made.error)")
        return folder + "/bin/python3"
    }

    @Test func doctorFixNamesRequirementsTxtByItsAbsolutePath() async throws {
        let python = try await pythonWithoutPyarrow()
        let run = try await runPolybridge(["doctor"], environment: ["POLYBRIDGE_PYTHON": python])
        #expect(run.status == 1)
        let requirements = repositoryRoot() + "/requirements.txt"
        #expect(run.output.contains("fix: \(python) -m pip install -r \(requirements)"), "\(run.output)")
    }

    @Test func convertWithoutPyarrowNamesThePythonAndPointsToDoctor() async throws {
        let python = try await pythonWithoutPyarrow()
        let folder = try scratchDirectory()
        try "a,b\n1,2\n".write(toFile: folder + "/in.csv", atomically: true, encoding: .utf8)
        let run = try await runPolybridge(["convert", folder + "/in.csv", folder + "/out.parquet"],
                                          environment: ["POLYBRIDGE_PYTHON": python])
        #expect(run.status == 1)
        #expect(run.error.contains("the Python at \(python) has no module pyarrow"), "\(run.error)")
        #expect(run.error.contains("polybridge doctor"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/out.parquet"))
    }
}

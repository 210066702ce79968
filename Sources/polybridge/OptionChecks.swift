import ArgumentParser
import Foundation

/// Range checks for numeric options, shared by the commands' `validate()`: a count or a number of
/// seconds outside its range is a usage error (exit 64) before anything runs, never a trap in a
/// conversion (`Int(Double.nan)`) or a range (`0..<-1`) later.
enum OptionChecks {
    /// The longest `--timeout` accepted: about 11.6 days. Far beyond any chunk, and far below
    /// what a `Duration` holds.
    static let maximumSeconds = 1_000_000.0

    /// Throws unless `value` is at least `minimum` (1 unless given).
    static func count(_ value: Int, _ option: String, minimum: Int = 1) throws {
        guard value >= minimum else { throw ValidationError("\(option) must be at least \(minimum) (got \(value))") }
    }

    /// Throws unless `value` is a finite number of seconds above 0 and at most ``maximumSeconds``
    /// (`nan`, `inf`, `1e300`, `0` and negative values are refused).
    static func seconds(_ value: Double, _ option: String) throws {
        guard value.isFinite, value > 0, value <= maximumSeconds else {
            throw ValidationError("\(option) must be a number of seconds above 0 and at most \(Int(maximumSeconds)) (got \(value))")
        }
    }

    /// What is wrong with `path` as an executable to run ("/x: no such file", "… is a
    /// directory", "… is not executable"), or nil when it can be run. A process started from
    /// a directory fails with "Permission denied", which names neither the path nor the cause.
    static func executableProblem(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "\(path): no such file" }
        if isDirectory.boolValue { return "\(path) is a directory, not the polybridge executable" }
        guard access(path, X_OK) == 0 else { return "\(path) is not executable (its mode lacks the x bit for this user)" }
        return nil
    }

    /// Exits 1 with a message naming `--worker-binary` when `path` cannot be run on this
    /// machine's engine workers: checked before a local Ray or Dask cluster starts. With
    /// `--address` the nodes are elsewhere, and each engine worker checks the path itself.
    static func checkWorkerBinary(_ path: String?, address: String?) throws {
        guard let path, address == nil, let problem = executableProblem(path) else { return }
        printError("error: --worker-binary \(problem)")
        throw ExitCode(1)
    }
}

import CProcess
import Foundation
import Synchronization

/// Process-wide settings both runtimes need before either starts.
public enum RuntimeEnvironment {
    private static let prepared = Mutex(false)

    /// Sizes BLAS/OpenMP thread pools, fixes the locale and makes forked children start with
    /// default signals, once, before R or Python starts.
    ///
    /// Two runtimes each spawning a pool per core would oversubscribe the machine, so each pool
    /// gets half the cores unless the user already chose. Strings cross the bridge as UTF-8, so
    /// a non-UTF-8 character type locale is replaced by `C.UTF-8`; numbers always use `LC_NUMERIC=C`.
    public static func prepare() {
        prepared.withLock { done in
            guard !done else { return }
            done = true
            let threads = String(max(1, ProcessInfo.processInfo.activeProcessorCount / 2))
            for variable in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]
            where getenv(variable) == nil {
                setenv(variable, threads, 1)
            }
            let locale = [getenv("LC_ALL"), getenv("LC_CTYPE"), getenv("LANG")]
                .compactMap { $0.map { String(cString: $0) } }.first { !$0.isEmpty } ?? ""
            if !locale.uppercased().contains("UTF-8") && !locale.uppercased().contains("UTF8") {
                unsetenv("LC_ALL")
                setenv("LC_CTYPE", "C.UTF-8", 1)
            }
            setenv("LC_NUMERIC", "C", 1)
            // The R thread and Swift's pool threads block nearly every signal; a child forked
            // from one (mclapply, os.fork) would keep that mask and never see SIGUSR1 (how
            // mc_exit learns it may end), SIGTERM or Ctrl-C.
            pb_fork_children_start_with_default_signals()
        }
    }

    /// Runs `executable` with `arguments` and returns its standard output, or nil if it failed.
    static func capture(_ executable: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The full path of `command` found on `PATH`, or nil.
    static func which(_ command: String) -> String? {
        if command.contains("/") { return FileManager.default.isExecutableFile(atPath: command) ? command : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

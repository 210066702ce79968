import Foundation

/// Scratch folders named after the process that made them (`PREFIX<pid>` or `PREFIX<pid>-…`).
/// A process that ends abruptly (Ctrl-C's `_exit`, SIGKILL) cannot remove its own; the next
/// process to make one removes those whose owner is gone.
public enum ProcessFolders {
    /// The temporary folder (TMPDIR, else /tmp), without a trailing slash.
    public static var temporaryBase: String {
        let folder = NSTemporaryDirectory()
        return folder.count > 1 && folder.hasSuffix("/") ? String(folder.dropLast()) : folder
    }

    /// The prefix of worker processes' temporary folders (`polybridge-workers-<owner pid>-…`),
    /// made by the local pool and by the engines' workers alike.
    public static let workersPrefix = "polybridge-workers-"

    /// Makes a folder of this process's own in `base`, `prefix<pid>-<unique>`, after removing
    /// the folders there whose owner is gone; returns its path. Only its owner may enter it
    /// (mode 0700): it holds a run's data, and /tmp and /dev/shm are shared by every local user.
    public static func makeOwn(in base: String, prefix: String) throws -> String {
        removeAbandoned(in: base, prefix: prefix)
        let folder = base + "/" + prefix + "\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        // The mode given to mkdir is narrowed by the umask only, never widened; set it exactly.
        guard chmod(folder, 0o700) == 0 else {
            try? FileManager.default.removeItem(atPath: folder)
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: folder])
        }
        return folder
    }

    /// Makes `file` readable and writable by its owner alone (mode 0600).
    public static func keepPrivate(_ file: String) {
        _ = chmod(file, 0o600)
    }

    /// Removes the folders in `base` named `prefix` + the ID of a process that no longer exists.
    public static func removeAbandoned(in base: String, prefix: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] where name.hasPrefix(prefix) {
            let owner = name.dropFirst(prefix.count).prefix { $0.isNumber }
            guard let pid = Int32(owner), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: base + "/" + name)
            }
        }
    }
}

/// The executable this process runs, for starting more of itself (workers).
public enum CurrentExecutable {
    /// Its path with symbolic links resolved: `/proc/self/exe` on Linux, where Polybridge is
    /// built and tested; elsewhere the path the process was started with.
    public static var url: URL {
        #if os(Linux)
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        #else
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        #endif
    }
}

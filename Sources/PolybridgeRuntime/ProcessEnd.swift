import CProcess
import Foundation
import Synchronization

/// How a program that embeds R and Python ends, and what it removes when it does.
///
/// `exit` runs C++ static destructors, pyarrow's among them, while other threads may still be
/// working: an Arrow table that Python made can be released on a pool thread a moment after
/// the command's last line, and its release then calls into a libarrow whose globals are gone
/// ("cannot create default memory pool", SIGABRT). `quick_exit` runs the handlers registered
/// for it (R's temporary directory is removed, see the R shim) and no destructors, so the
/// libraries stay whole until the process is gone.
///
/// Folders given to ``removeAtEnd(_:)`` (R's session folder, a run's shared-memory files) are
/// removed however the process ends, save SIGKILL: at a normal end, at Ctrl-C's immediate end,
/// when a signal ends it (see ``endAsKilled(by:)``), at `os._exit` in embedded Python.
public enum ProcessEnd {
    /// The process that registered the folders: a forked child (mclapply, os.fork) shares the
    /// list but must never remove its parent's folders.
    private static let owner = getpid()
    private static let folders = Mutex<Set<String>>([])

    /// Removes `folder` (and what it holds) when the process ends.
    public static func removeAtEnd(_ folder: String) {
        _ = owner
        folders.withLock { _ = $0.insert(folder) }
    }

    /// Forgets `folder` (its owner has removed it, or keeps it).
    public static func forget(_ folder: String) {
        folders.withLock { _ = $0.remove(folder) }
    }

    /// Flushes C's standard output and error (where `print` writes), removes the folders and
    /// ends the process with `status` through `quick_exit`.
    public static func now(_ status: Int32) -> Never {
        fflush(nil)
        removeFolders()
        quick_exit(status)
    }

    /// Removes the folders and ends the process with `status` at once, as `_exit` does (no
    /// handlers, no flushing): Ctrl-C's 130 while other threads are still at work.
    public static func immediately(_ status: Int32) -> Never {
        removeFolders()
        _exit(status)
    }

    /// Removes the folders and ends the process the way `signal`'s default action does, so the
    /// parent sees it killed by that signal (a shell reports SIGTERM as 143, SIGPIPE as 141).
    public static func endAsKilled(by signal: Int32) -> Never {
        removeFolders()
        pb_signal_end_process(signal)
    }

    /// Removes every registered folder; only in the process that registered them. A folder a
    /// dying worker still writes into may resist the first time: tried again for up to 0.5 s.
    static func removeFolders() {
        guard getpid() == owner else { return }
        let paths = folders.withLock { $0 }
        for path in paths {
            for attempt in 0..<10 {
                try? FileManager.default.removeItem(atPath: path)
                if !FileManager.default.fileExists(atPath: path) { break }
                if attempt < 9 { usleep(50_000) }
            }
        }
    }
}

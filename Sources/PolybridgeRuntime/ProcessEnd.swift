import Foundation

/// How a program that embeds R and Python ends when its work is done.
///
/// `exit` runs C++ static destructors, pyarrow's among them, while other threads may still be
/// working: an Arrow table that Python made can be released on a pool thread a moment after
/// the command's last line, and its release then calls into a libarrow whose globals are gone
/// ("cannot create default memory pool", SIGABRT). `quick_exit` runs the handlers registered
/// for it (R's temporary directory is removed, see the R shim) and no destructors, so the
/// libraries stay whole until the process is gone.
public enum ProcessEnd {
    /// Flushes C's standard output and error (where `print` writes) and ends the process with
    /// `status` through `quick_exit`.
    public static func now(_ status: Int32) -> Never {
        fflush(nil)
        quick_exit(status)
    }
}

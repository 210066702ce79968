import Foundation
import Synchronization

/// An output file written under a temporary name beside its destination and renamed into place
/// only once complete, so a failed or interrupted conversion never leaves a partial file.
struct AtomicOutput: Sendable {
    /// The path the finished file gets.
    let destination: String
    /// Where the file is written meanwhile (same directory, so the rename is atomic).
    let temporaryPath: String

    /// Temporary files not yet committed or discarded, for clean-up when the process is interrupted.
    private static let pending = Mutex<Set<String>>([])

    /// Checks that `destination` can be written and reserves a temporary name beside it.
    init(destination: String) throws(DataFileError) {
        let url = URL(fileURLWithPath: destination)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .unwritable(file: destination, detail: "the directory \(directory) does not exist")
        }
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory), isDirectory.boolValue {
            throw .unwritable(file: destination, detail: "it is a directory")
        }
        guard access(directory, W_OK) == 0 else {
            throw .unwritable(file: destination, detail: "the directory \(directory) is not writable")
        }
        self.destination = destination
        let token = UInt32.random(in: 0...UInt32.max)
        temporaryPath = "\(directory)/.\(url.lastPathComponent).polybridge-\(getpid())-\(token).tmp"
        let reserved = temporaryPath
        AtomicOutput.pending.withLock { _ = $0.insert(reserved) }
    }

    /// Moves the finished file into place, replacing any file already there.
    func commit() throws(DataFileError) {
        defer { AtomicOutput.pending.withLock { _ = $0.remove(temporaryPath) } }
        guard rename(temporaryPath, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw .unwritable(file: destination, detail: reason)
        }
    }

    /// Deletes whatever was written so far.
    func discard() {
        unlink(temporaryPath)
        AtomicOutput.pending.withLock { _ = $0.remove(temporaryPath) }
    }

    /// Deletes every temporary file still being written (called when the process is interrupted).
    static func discardAllPending() {
        pending.withLock { paths in
            for path in paths { unlink(path) }
            paths.removeAll()
        }
    }
}

/// Clean-up for an interrupted conversion: no partial output may survive Ctrl-C.
public enum DataFileCleanup {
    /// Deletes the temporary files of conversions still in progress.
    public static func discardPartialOutputs() {
        AtomicOutput.discardAllPending()
    }
}

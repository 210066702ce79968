import Foundation
import Synchronization

/// Where an output file goes, checked before anything is read: the path the user gave, the
/// file actually written (a symlink's target), and the mode and owner to keep when it replaces
/// an existing file.
struct OutputTarget: Sendable {
    /// The path the user gave; every message names it.
    let destination: String
    /// The file replaced in place: `destination`, or the file a symlink at `destination` points to.
    let resolved: String
    /// The permission bits, owner and group of the file being replaced, if there is one.
    let existing: (mode: mode_t, owner: uid_t, group: gid_t)?

    /// Checks that `destination` can be written: its directory exists and is writable, it is not
    /// a directory, and an existing file there is one the user may write.
    init(destination: String) throws(DataFileError) {
        self.destination = destination
        let resolved = OutputTarget.followingSymlinks(destination)
        self.resolved = resolved
        let directory = URL(fileURLWithPath: resolved).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .unwritable(file: destination, detail: "the directory \(directory) does not exist")
        }
        var status = stat()
        if stat(resolved, &status) == 0 {
            guard (status.st_mode & S_IFMT) != S_IFDIR else { throw .unwritable(file: destination, detail: "it is a directory") }
            guard (status.st_mode & S_IFMT) == S_IFREG else {
                let through = resolved == destination ? "" : " (a symlink to \(resolved))"
                throw .unwritable(file: destination, detail: "it is not a regular file\(through); a device, pipe or socket is never replaced")
            }
            guard access(resolved, W_OK) == 0 else {
                throw .unwritable(file: destination, detail: "the existing file is not writable (\(DataFiles.systemMessage(errno))); it was left as it is")
            }
            existing = (status.st_mode & 0o7777, status.st_uid, status.st_gid)
        } else {
            existing = nil
        }
        guard access(directory, W_OK) == 0 else {
            throw .unwritable(file: destination, detail: "the directory \(directory) is not writable")
        }
    }

    /// The file a chain of symlinks ends at (relative links resolve against their own
    /// directory); a dangling link's target is where the new file is created.
    private static func followingSymlinks(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {
            var status = stat()
            guard lstat(current, &status) == 0, (status.st_mode & S_IFMT) == S_IFLNK,
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { return current }
            current = target.hasPrefix("/") ? target
                : URL(fileURLWithPath: current).deletingLastPathComponent().appendingPathComponent(target).path
        }
        return current
    }
}

/// An output file written under a temporary name beside its destination and renamed into place
/// only once complete, so a failed or interrupted conversion never leaves a partial file.
struct AtomicOutput: Sendable {
    /// The file being made.
    let target: OutputTarget
    /// Where the file is written meanwhile (same directory as the file it replaces, so the
    /// rename is atomic).
    let temporaryPath: String

    /// Temporary files not yet committed or discarded, for clean-up when the process is interrupted.
    private static let pending = Mutex<Set<String>>([])

    /// Reserves a temporary name beside the target.
    init(_ target: OutputTarget) {
        self.target = target
        let url = URL(fileURLWithPath: target.resolved)
        let token = UInt32.random(in: 0...UInt32.max)
        temporaryPath = "\(url.deletingLastPathComponent().path)/.\(url.lastPathComponent).polybridge-\(getpid())-\(token).tmp"
        let reserved = temporaryPath
        AtomicOutput.pending.withLock { _ = $0.insert(reserved) }
    }

    /// Moves the finished file into place, replacing any file already there and keeping its
    /// permission bits (and owner, when the process may set it).
    func commit() throws(DataFileError) {
        defer { AtomicOutput.pending.withLock { _ = $0.remove(temporaryPath) } }
        if let existing = target.existing {
            _ = chown(temporaryPath, existing.owner, existing.group)  // allowed for root or the same owner only
            guard chmod(temporaryPath, existing.mode) == 0 else {
                let reason = DataFiles.systemMessage(errno)
                unlink(temporaryPath)
                throw .unwritable(file: target.destination, detail: reason)
            }
        }
        guard rename(temporaryPath, target.resolved) == 0 else {
            let reason = DataFiles.systemMessage(errno)
            unlink(temporaryPath)
            throw .unwritable(file: target.destination, detail: reason)
        }
    }

    /// Deletes whatever was written so far.
    func discard() {
        unlink(temporaryPath)
        AtomicOutput.pending.withLock { _ = $0.remove(temporaryPath) }
    }

    /// The error for a failure while writing, naming the user's path, never the temporary one:
    /// `people.csv: cannot write: No space left on device`.
    func writeError(type: String, message: String) -> DataFileError {
        if let code = AtomicOutput.errnoValue(in: message) {
            return .unwritable(file: target.destination, detail: DataFiles.systemMessage(code))
        }
        let cleaned = message.replacingOccurrences(of: temporaryPath, with: target.destination)
        return .unwritable(file: target.destination, detail: type == "R" ? cleaned : "\(type): \(cleaned)")
    }

    /// The errno a message quotes ("[Errno 28]", "errno 28"), if any.
    private static func errnoValue(in message: String) -> Int32? {
        guard let range = message.range(of: #"[Ee]rrno:? ?(\d+)"#, options: .regularExpression) else { return nil }
        return Int32(message[range].filter(\.isNumber))
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

import Foundation

/// Every file Polybridge writes for the user (`convert`'s output, a pipeline's `write` step,
/// `fit --plot`, `run --graph`) follows one policy, checked before anything is written:
/// the file appears only when complete (a temporary file beside it, renamed into place); a
/// symlink is written through (its target is replaced, the link kept); the mode and owner of a
/// replaced file are kept; a directory, device, pipe or socket is refused with an error naming
/// the path, so `--plot /dev/null` run as root never replaces `/dev/null`.
public enum OutputFile {
    /// Checks now that `path` can be written by the policy above (its directory exists and is
    /// writable; it is not a directory, device, pipe or socket), so a command can refuse it
    /// before its work rather than after.
    public static func check(_ path: String) throws(DataFileError) {
        _ = try OutputTarget(destination: path)
    }

    /// Writes `data` to `path` by the policy above.
    public static func write(_ data: Data, to path: String) throws(DataFileError) {
        let output = AtomicOutput(try OutputTarget(destination: path))
        // O_EXCL: the temporary name is new, never an existing file or a link planted there.
        let descriptor = open(output.temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            let reason = DataFiles.systemMessage(errno)
            output.discard()
            throw .unwritable(file: path, detail: reason)
        }
        let failure: Int32? = data.withUnsafeBytes { bytes -> Int32? in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return fsync(descriptor) == 0 ? nil : errno
        }
        close(descriptor)
        if let failure {
            output.discard()
            throw .unwritable(file: path, detail: DataFiles.systemMessage(failure))
        }
        try output.commit()
    }

    /// Makes the file at `path` by the policy above: `produce` writes the complete file at the
    /// temporary path it is given (R's `png()` device, say); the file is renamed into place when
    /// `produce` returns and deleted when it throws (its error is rethrown).
    public static func make<T>(_ path: String, _ produce: (String) async throws -> T) async throws -> T {
        let output = AtomicOutput(try OutputTarget(destination: path))
        let value: T
        do {
            value = try await produce(output.temporaryPath)
        } catch {
            output.discard()
            throw error
        }
        guard FileManager.default.fileExists(atPath: output.temporaryPath) else {
            output.discard()
            throw DataFileError.unwritable(file: path, detail: "nothing was written")
        }
        try output.commit()
        return value
    }
}

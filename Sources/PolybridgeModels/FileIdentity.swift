import Foundation

/// What a data file was when a fit started: its device and inode, size, modification time and
/// a hash of its footer (a Parquet or Arrow IPC file's metadata, else its last bytes). Workers
/// that read the file themselves check it before and after reading their chunk, so a file
/// replaced or rewritten during the fit is an error naming the file, never a fit that mixes
/// the rows of two files.
public struct FileIdentity: Sendable, Codable, Equatable {
    /// The host that pinned the identity: device and inode mean something only there.
    public var host: String
    /// `st_dev`.
    public var device: UInt64
    /// `st_ino`.
    public var inode: UInt64
    /// The size in bytes.
    public var size: Int64
    /// The modification time, in nanoseconds since the epoch.
    public var modified: Int64
    /// FNV-1a of the footer: a Parquet or Arrow IPC file's metadata, else the last 4 KiB.
    public var footer: UInt64

    /// The identity `path` has now.
    public static func pin(_ path: String) throws(LinearModelError) -> FileIdentity {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .dataFileUnusable(path: path, detail: "cannot be read: \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .dataFileUnusable(path: path, detail: "is not a regular file: workers read their rows from it, so it must be a file that can be read more than once")
        }
        return FileIdentity(host: ProcessInfo.processInfo.hostName, device: UInt64(info.st_dev), inode: UInt64(info.st_ino),
                            size: Int64(info.st_size),
                            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                            footer: try footerHash(path, size: Int64(info.st_size)))
    }

    /// Throws ``LinearModelError/dataFileChanged(path:what:)`` unless `path` still has this
    /// identity. On another host the device and inode are not compared (a shared file system
    /// numbers them its own way there).
    public func check(_ path: String) throws(LinearModelError) {
        let now: FileIdentity
        do {
            now = try FileIdentity.pin(path)
        } catch {
            throw .dataFileChanged(path: path, what: "it can no longer be read (\(error))")
        }
        var changes: [String] = []
        if now.host == host && (now.device != device || now.inode != inode) { changes.append("it is another file (device and inode)") }
        if now.size != size { changes.append("its size is \(now.size) bytes, not \(size)") }
        if now.modified != modified { changes.append("its modification time changed") }
        if now.footer != footer { changes.append("its footer changed") }
        guard changes.isEmpty else { throw .dataFileChanged(path: path, what: changes.joined(separator: ", ")) }
    }

    /// FNV-1a over the file's footer bytes.
    private static func footerHash(_ path: String, size: Int64) throws(LinearModelError) -> UInt64 {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .dataFileUnusable(path: path, detail: "cannot be opened: \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        func read(from offset: Int64, count: Int) -> [UInt8] {
            guard offset >= 0, count > 0, (try? handle.seek(toOffset: UInt64(offset))) != nil,
                  let data = try? handle.read(upToCount: count) else { return [] }
            return [UInt8](data)
        }
        var start = max(0, size - 4096)
        let trailer = read(from: size - 10, count: 10)
        if trailer.count == 10 {
            func length(at index: Int) -> Int64 {
                Int64(UInt32(trailer[index]) | UInt32(trailer[index + 1]) << 8 | UInt32(trailer[index + 2]) << 16 | UInt32(trailer[index + 3]) << 24)
            }
            if Array(trailer[6...]) == Array("PAR1".utf8) {
                start = max(0, size - 8 - length(at: 2))  // Parquet: metadata, its length, "PAR1"
            } else if Array(trailer[4...]) == Array("ARROW1".utf8) {
                start = max(0, size - 10 - length(at: 0))  // Arrow IPC: footer, its length, "ARROW1"
            }
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in read(from: start, count: Int(size - start)) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

import CArrow

/// Schema-level key/value metadata in the C Data Interface's binary layout: an int32 pair
/// count, then for each pair an int32 byte length and the bytes of the key, then of the value
/// (native byte order). pandas keeps its index there (key `pandas`).
enum ArrowSchemaMetadata {
    /// The encoded bytes of `metadata` (keys sorted, so the encoding is deterministic), or nil
    /// when there is nothing to encode.
    static func encode(_ metadata: [String: String]) -> [UInt8]? {
        guard !metadata.isEmpty else { return nil }
        var bytes: [UInt8] = []
        func append(_ value: Int32) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
        append(Int32(metadata.count))
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            append(Int32(key.utf8.count))
            bytes.append(contentsOf: key.utf8)
            append(Int32(value.utf8.count))
            bytes.append(contentsOf: value.utf8)
        }
        return bytes
    }

    /// Decodes the metadata of a C schema; entries that are not valid UTF-8 are skipped, and a
    /// malformed block is an error.
    static func decode(_ raw: UnsafePointer<CChar>?) throws(ArrowError) -> [String: String] {
        guard let raw else { return [:] }
        let base = UnsafeRawPointer(raw)
        var position = 0
        func int32() throws(ArrowError) -> Int {
            let value = Int(base.loadUnaligned(fromByteOffset: position, as: Int32.self))
            position += 4
            guard value >= 0, value <= 1 << 30 else { throw .invalidSchema("schema metadata holds a negative or huge length (\(value))") }
            return value
        }
        func text(_ count: Int) -> String? {
            let bytes = UnsafeBufferPointer(start: (base + position).assumingMemoryBound(to: UInt8.self), count: count)
            position += count
            return String(validating: bytes, as: UTF8.self)
        }
        var metadata: [String: String] = [:]
        let pairs = try int32()
        for _ in 0..<pairs {
            let key = text(try int32())
            let value = text(try int32())
            if let key, let value { metadata[key] = value }
        }
        return metadata
    }
}

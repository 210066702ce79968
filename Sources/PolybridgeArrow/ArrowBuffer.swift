/// A 64-byte-aligned, owned block of memory holding one Arrow buffer; freed when the last reference goes.
///
/// The allocation is rounded up to a multiple of 64 bytes (Arrow's recommended
/// padding) and the padding is always zeroed, so SIMD readers may overrun up to
/// the next 64-byte boundary safely.
public final class ArrowBuffer: @unchecked Sendable {
    /// The start of the memory; writable until the buffer is handed to an ``ArrowArray``.
    public let baseAddress: UnsafeMutableRawPointer
    /// The usable size in bytes (not counting padding).
    public let byteCount: Int

    /// The alignment (and padding granularity) of every buffer.
    public static let alignment = 64

    /// Allocates `byteCount` bytes, zero-filled (negative counts are treated as 0).
    public convenience init(byteCount: Int) {
        self.init(uninitializedByteCount: byteCount)
        baseAddress.initializeMemory(as: UInt8.self, repeating: 0, count: self.byteCount)
    }

    /// Allocates `byteCount` bytes whose contents are unspecified (only the padding is zeroed); fill them before use.
    public init(uninitializedByteCount byteCount: Int) {
        let count = max(0, byteCount)
        let capacity = ArrowBuffer.paddedSize(count)
        self.byteCount = count
        self.baseAddress = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: ArrowBuffer.alignment)
        (baseAddress + count).initializeMemory(as: UInt8.self, repeating: 0, count: capacity - count)
    }

    /// Allocates a buffer holding a copy of `bytes`.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(uninitializedByteCount: bytes.count)
        if let source = bytes.baseAddress, bytes.count > 0 {
            baseAddress.copyMemory(from: source, byteCount: bytes.count)
        }
    }

    /// Allocates a buffer holding a copy of the elements of `values` (for fixed-width element types).
    public convenience init<T: BitwiseCopyable>(copyingElements values: [T]) {
        let bytes = values.count * MemoryLayout<T>.stride
        self.init(uninitializedByteCount: bytes)
        values.withUnsafeBytes { source in
            if let start = source.baseAddress, bytes > 0 { baseAddress.copyMemory(from: start, byteCount: bytes) }
        }
    }

    /// The memory viewed as `byteCount / stride` elements of `T`, for filling a buffer in bulk.
    public func mutableElements<T: BitwiseCopyable>(of type: T.Type) -> UnsafeMutableBufferPointer<T> {
        let count = byteCount / MemoryLayout<T>.stride
        return UnsafeMutableBufferPointer(start: baseAddress.bindMemory(to: T.self, capacity: count), count: count)
    }

    /// The number of bytes actually allocated for `byteCount` usable bytes (a multiple of 64, at least 64).
    static func paddedSize(_ byteCount: Int) -> Int {
        let (sum, overflow) = byteCount.addingReportingOverflow(alignment - 1)
        let rounded = overflow ? byteCount : sum & ~(alignment - 1)
        return max(alignment, rounded)
    }

    deinit {
        baseAddress.deallocate()
    }
}

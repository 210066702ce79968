/// Helpers for Arrow's LSB-first bitmaps (validity bitmaps and bit-packed booleans).
enum ArrowBitmap {
    /// The number of bytes needed for `bits` bits.
    @inline(__always)
    static func byteCount(forBits bits: Int) -> Int { (bits + 7) / 8 }

    /// Reads bit `index` (LSB-first: bit `index % 8` of byte `index / 8`).
    @inline(__always)
    static func bit(_ bitmap: UnsafePointer<UInt8>, _ index: Int) -> Bool {
        bitmap[index &>> 3] & (1 &<< UInt8(index & 7)) != 0
    }

    /// Sets bit `index` to one.
    @inline(__always)
    static func set(_ bitmap: UnsafeMutablePointer<UInt8>, _ index: Int) {
        bitmap[index &>> 3] |= 1 &<< UInt8(index & 7)
    }

    /// Counts the one bits in `[start, start + count)`.
    static func countSetBits(_ bitmap: UnsafePointer<UInt8>, start: Int, count: Int) -> Int {
        guard count > 0 else { return 0 }
        var index = start
        let end = start + count
        var total = 0
        // Leading bits up to a byte boundary.
        while index < end && index & 7 != 0 {
            if bit(bitmap, index) { total += 1 }
            index += 1
        }
        // Whole 64-bit words, then whole bytes.
        let raw = UnsafeRawPointer(bitmap)
        while end - index >= 64 {
            total += raw.loadUnaligned(fromByteOffset: index &>> 3, as: UInt64.self).nonzeroBitCount
            index += 64
        }
        while end - index >= 8 {
            total += bitmap[index &>> 3].nonzeroBitCount
            index += 8
        }
        while index < end {
            if bit(bitmap, index) { total += 1 }
            index += 1
        }
        return total
    }
}

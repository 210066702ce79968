import CArrow

/// One Arrow array (a column chunk, a record batch, a dictionary), whether imported from C, built in Swift or wrapping foreign memory.
///
/// The object is immutable and safe to share between threads. Memory stays
/// valid as long as any `ArrowArray` that uses it is alive: children,
/// dictionaries and slices keep their parent's memory alive, and an imported
/// C struct is released exactly once, when the last of them goes away.
public final class ArrowArray: @unchecked Sendable {
    /// The logical type of the values.
    public let type: ArrowDataType
    /// The number of logical elements.
    public let length: Int
    /// The index of the first logical element within the buffers (and within struct children).
    public let offset: Int
    /// The number of null elements in `offset..<offset + length`, counted from the validity bitmap when the producer did not say.
    public let nullCount: Int
    /// The raw buffer pointers in C Data Interface order, with the offset NOT applied.
    public let buffers: [UnsafeRawPointer?]
    /// The child arrays (struct fields), not adjusted for this array's `offset`; see ``field(at:)``.
    public let children: [ArrowArray]
    /// The dictionary (value) array of a dictionary-encoded array, or nil.
    public let dictionary: ArrowArray?

    /// What keeps the memory behind `buffers` alive.
    let anchor: Anchor

    /// The owners an array can depend on for its memory.
    enum Anchor {
        /// Part of a moved C `ArrowArray` that is released when the owner goes away.
        case imported(ImportedArrayOwner)
        /// Buffers allocated by this library.
        case owned([ArrowBuffer])
        /// Memory owned elsewhere, released through a callback.
        case foreign(ForeignMemoryOwner)
        /// A view (slice) of another array.
        case view(ArrowArray)
    }

    /// The designated initializer; performs no validation, and computes the null count when `nullCount` is negative.
    init(type: ArrowDataType, length: Int, offset: Int, nullCount: Int, buffers: [UnsafeRawPointer?],
         children: [ArrowArray], dictionary: ArrowArray?, anchor: Anchor) {
        self.type = type
        self.length = length
        self.offset = offset
        self.buffers = buffers
        self.children = children
        self.dictionary = dictionary
        self.anchor = anchor
        if type == .null {
            self.nullCount = length  // a null array has no validity bitmap: every element is null
        } else if nullCount >= 0 {
            self.nullCount = nullCount
        } else if let validity = buffers.first ?? nil {
            let bitmap = validity.assumingMemoryBound(to: UInt8.self)
            self.nullCount = length - ArrowBitmap.countSetBits(bitmap, start: offset, count: length)
        } else {
            self.nullCount = 0
        }
    }

    /// The validity bitmap (buffer 0, LSB-first, offset NOT applied: element `i` is bit `offset + i`), or nil when every element is valid.
    public var validityBitmap: UnsafePointer<UInt8>? {
        guard nullCount != 0, let validity = buffers.first ?? nil else { return nil }
        return validity.assumingMemoryBound(to: UInt8.self)
    }

    /// Whether element `i` (relative to this array; the offset is applied) is non-null; false when `i` is out of range.
    public func isValid(_ i: Int) -> Bool {
        guard i >= 0, i < length else { return false }
        // A pattern, not `!=`: the derived equality of a type with associated values is costly
        // in a per-element loop.
        if case .null = type { return false }
        guard let bitmap = validityBitmap else { return true }
        return ArrowBitmap.bit(bitmap, offset + i)
    }

    /// How many elements the memory under this array holds, as far as is known: the extent of
    /// the array it is a view of (followed to the first array that is not a view), at least
    /// `offset + length`. A short view of a long array keeps the long array's memory alive.
    public var underlyingLength: Int {
        var root = self
        while case .view(let parent) = root.anchor { root = parent }
        return max(root.offset + root.length, offset + length)
    }

    /// A zero-copy view of `length` elements starting at `offset` (relative to this array) that keeps this array alive.
    public func slice(offset start: Int, length count: Int) throws(ArrowError) -> ArrowArray {
        guard start >= 0, start <= length else {
            throw .indexOutOfRange(what: "slice start", index: start, count: length + 1)
        }
        guard count >= 0, count <= length - start else {
            throw .indexOutOfRange(what: "slice end", index: start + count, count: length + 1)
        }
        if start == 0 && count == length { return self }
        let knownNulls = nullCount == 0 ? 0 : (nullCount == length ? count : -1)
        return ArrowArray(type: type, length: count, offset: offset + start, nullCount: knownNulls,
                          buffers: buffers, children: children, dictionary: dictionary, anchor: .view(self))
    }

    /// The struct field `index` as an array aligned with this one (this array's offset and length applied).
    public func field(at index: Int) throws(ArrowError) -> ArrowArray {
        guard case .structType = type else {
            throw .typeMismatch(column: nil, expected: "struct", actual: type)
        }
        guard index >= 0, index < children.count else {
            throw .indexOutOfRange(what: "struct field", index: index, count: children.count)
        }
        let child = children[index]
        if offset == 0 && child.length == length { return child }
        return try child.slice(offset: offset, length: length)
    }
}

/// Owns a C `ArrowArray` moved into Swift and calls its `release` exactly once, in `deinit`.
final class ImportedArrayOwner: @unchecked Sendable {
    /// The moved struct (heap-allocated so its address stays stable).
    let pointer: UnsafeMutablePointer<CArrow.ArrowArray>

    /// Moves `raw` (bitwise copy, then marks the source released by setting its `release` to NULL).
    init(moving raw: UnsafeMutablePointer<CArrow.ArrowArray>) {
        pointer = UnsafeMutablePointer<CArrow.ArrowArray>.allocate(capacity: 1)
        pointer.initialize(to: raw.pointee)
        raw.pointee.release = nil
    }

    deinit {
        if let release = pointer.pointee.release {
            release(pointer)
        }
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }
}

/// Calls a foreign owner's release callback exactly once, when the last Swift or C user lets go.
final class ForeignMemoryOwner: @unchecked Sendable {
    private let onRelease: @Sendable () -> Void

    init(onRelease: @escaping @Sendable () -> Void) {
        self.onRelease = onRelease
    }

    deinit {
        onRelease()
    }
}

import CArrow

extension ArrowArray {
    /// Fills a C `ArrowArray` that shares this array's memory (zero-copy) and keeps this object alive until its `release`.
    ///
    /// `out` is overwritten without being released first. Children and the
    /// dictionary are exported as separate C structs with their own `release`
    /// (a consumer may move them out); the parent's `release` releases any that
    /// were not moved. Exporting the same array several times is fine: every
    /// export holds its own reference. `release` may be called from any thread.
    public func export(to out: UnsafeMutablePointer<CArrow.ArrowArray>) {
        let box = ArrayExportBox(array: self)
        out.pointee = CArrow.ArrowArray(
            length: Int64(length),
            null_count: Int64(nullCount),
            offset: Int64(offset),
            n_buffers: Int64(buffers.count),
            n_children: Int64(box.nested.count),
            buffers: box.bufferPointers,
            children: box.nested.pointers,
            dictionary: box.nested.dictionary,
            release: releaseExportedArray,
            private_data: Unmanaged.passRetained(box).toOpaque()
        )
    }
}

/// Owns the C-side memory of one exported array and holds a strong reference to the Swift array.
final class ArrayExportBox {
    let array: ArrowArray
    let bufferPointers: UnsafeMutablePointer<UnsafeRawPointer?>?
    let nested: ExportedChildren<CArrow.ArrowArray>

    init(array: ArrowArray) {
        self.array = array
        if array.buffers.isEmpty {
            bufferPointers = nil
        } else {
            let pointers = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: array.buffers.count)
            pointers.initialize(from: array.buffers, count: array.buffers.count)
            bufferPointers = pointers
        }
        nested = ExportedChildren(array.children,
                                  exportChild: { child, out in child.export(to: out) },
                                  exportDictionary: array.dictionary.map { values in { out in values.export(to: out) } })
    }

    deinit {
        if let bufferPointers {
            bufferPointers.deinitialize(count: array.buffers.count)
            bufferPointers.deallocate()
        }
        nested.deallocate()
    }
}

/// The `release` callback of every array exported by this library; safe to call from any thread.
private func releaseExportedArray(_ array: UnsafeMutablePointer<CArrow.ArrowArray>?) {
    guard let array, array.pointee.release != nil else { return }
    guard let privateData = array.pointee.private_data else {
        array.pointee.release = nil
        return
    }
    let box = Unmanaged<ArrayExportBox>.fromOpaque(privateData).takeRetainedValue()
    box.nested.releaseUnmoved()
    array.pointee.release = nil
    array.pointee.private_data = nil
    withExtendedLifetime(box) {}
}

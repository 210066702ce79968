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
            n_children: Int64(box.childCount),
            buffers: box.bufferPointers,
            children: box.childPointers,
            dictionary: box.dictionary,
            release: releaseExportedArray,
            private_data: Unmanaged.passRetained(box).toOpaque()
        )
    }
}

/// Owns the C-side memory of one exported array and holds a strong reference to the Swift array.
final class ArrayExportBox {
    let array: ArrowArray
    let bufferPointers: UnsafeMutablePointer<UnsafeRawPointer?>?
    let childStructs: UnsafeMutablePointer<CArrow.ArrowArray>?
    let childPointers: UnsafeMutablePointer<UnsafeMutablePointer<CArrow.ArrowArray>?>?
    let childCount: Int
    let dictionary: UnsafeMutablePointer<CArrow.ArrowArray>?

    init(array: ArrowArray) {
        self.array = array
        if array.buffers.isEmpty {
            bufferPointers = nil
        } else {
            let pointers = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: array.buffers.count)
            pointers.initialize(from: array.buffers, count: array.buffers.count)
            bufferPointers = pointers
        }
        childCount = array.children.count
        if childCount == 0 {
            childStructs = nil
            childPointers = nil
        } else {
            let structs = UnsafeMutablePointer<CArrow.ArrowArray>.allocate(capacity: childCount)
            let pointers = UnsafeMutablePointer<UnsafeMutablePointer<CArrow.ArrowArray>?>.allocate(capacity: childCount)
            for (i, child) in array.children.enumerated() {
                (structs + i).initialize(to: CArrow.ArrowArray())
                child.export(to: structs + i)
                pointers[i] = structs + i
            }
            childStructs = structs
            childPointers = pointers
        }
        if let values = array.dictionary {
            let dictionary = UnsafeMutablePointer<CArrow.ArrowArray>.allocate(capacity: 1)
            dictionary.initialize(to: CArrow.ArrowArray())
            values.export(to: dictionary)
            self.dictionary = dictionary
        } else {
            dictionary = nil
        }
    }

    /// Releases the children and dictionary that the consumer has not moved away.
    func releaseChildren() {
        if let childStructs {
            for i in 0..<childCount where childStructs[i].release != nil {
                childStructs[i].release?(childStructs + i)
            }
        }
        if let dictionary, dictionary.pointee.release != nil {
            dictionary.pointee.release?(dictionary)
        }
    }

    deinit {
        if let bufferPointers {
            bufferPointers.deinitialize(count: array.buffers.count)
            bufferPointers.deallocate()
        }
        if let childStructs {
            childStructs.deinitialize(count: childCount)
            childStructs.deallocate()
        }
        childPointers?.deallocate()
        if let dictionary {
            dictionary.deinitialize(count: 1)
            dictionary.deallocate()
        }
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
    box.releaseChildren()
    array.pointee.release = nil
    array.pointee.private_data = nil
    withExtendedLifetime(box) {}
}

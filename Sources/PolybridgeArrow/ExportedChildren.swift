import CArrow

/// A C Data Interface struct (`ArrowArray` or `ArrowSchema`) that owns itself through `release`.
protocol ArrowReleasableStruct {
    /// A released (empty) struct.
    init()
    /// Whether `release` is NULL: released already, or moved away by the consumer.
    var isReleased: Bool { get }
    /// Calls the struct's own `release` callback.
    static func release(_ pointer: UnsafeMutablePointer<Self>)
}

extension CArrow.ArrowArray: ArrowReleasableStruct {
    var isReleased: Bool { release == nil }
    static func release(_ pointer: UnsafeMutablePointer<Self>) { pointer.pointee.release?(pointer) }
}

extension ArrowSchema: ArrowReleasableStruct {
    var isReleased: Bool { release == nil }
    static func release(_ pointer: UnsafeMutablePointer<Self>) { pointer.pointee.release?(pointer) }
}

/// The child structs and dictionary struct hanging off one exported array or schema.
///
/// The C Data Interface lets a consumer move children out; the parent's `release` releases
/// only those still in place (`releaseUnmoved`), and the memory itself goes with the parent's
/// private data (`deallocate`).
struct ExportedChildren<Struct: ArrowReleasableStruct> {
    /// `count` child structs, or nil when there are none.
    let structs: UnsafeMutablePointer<Struct>?
    /// The `children` array the C struct points at, or nil when there are none.
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<Struct>?>?
    /// The number of children.
    let count: Int
    /// The dictionary struct, or nil.
    let dictionary: UnsafeMutablePointer<Struct>?

    /// Exports each of `children` with `exportChild`, and the dictionary with `exportDictionary`.
    init<Children: Collection>(_ children: Children,
                               exportChild: (Children.Element, UnsafeMutablePointer<Struct>) -> Void,
                               exportDictionary: ((UnsafeMutablePointer<Struct>) -> Void)?) {
        count = children.count
        if count == 0 {
            structs = nil
            pointers = nil
        } else {
            let structs = UnsafeMutablePointer<Struct>.allocate(capacity: count)
            let pointers = UnsafeMutablePointer<UnsafeMutablePointer<Struct>?>.allocate(capacity: count)
            for (i, child) in children.enumerated() {
                (structs + i).initialize(to: Struct())
                exportChild(child, structs + i)
                pointers[i] = structs + i
            }
            self.structs = structs
            self.pointers = pointers
        }
        if let exportDictionary {
            let dictionary = UnsafeMutablePointer<Struct>.allocate(capacity: 1)
            dictionary.initialize(to: Struct())
            exportDictionary(dictionary)
            self.dictionary = dictionary
        } else {
            dictionary = nil
        }
    }

    /// Releases the children and dictionary that the consumer has not moved away.
    func releaseUnmoved() {
        if let structs {
            for i in 0..<count where !structs[i].isReleased { Struct.release(structs + i) }
        }
        if let dictionary, !dictionary.pointee.isReleased { Struct.release(dictionary) }
    }

    /// Frees the structs (call once, when the parent's private data goes).
    func deallocate() {
        if let structs {
            structs.deinitialize(count: count)
            structs.deallocate()
        }
        pointers?.deallocate()
        if let dictionary {
            dictionary.deinitialize(count: 1)
            dictionary.deallocate()
        }
    }
}

import Synchronization
@testable import PolybridgeArrow

/// Counts how many times a release callback ran (thread-safe).
final class ReleaseCounter: Sendable {
    private let value = Mutex(0)

    var count: Int { value.withLock { $0 } }

    func increment() { value.withLock { $0 += 1 } }

    /// An `onRelease` closure that increments this counter.
    var callback: @Sendable () -> Void { { [self] in self.increment() } }
}

/// A heap-allocated, zero-initialised C array struct, freed by `free()`.
final class CArrayBox {
    let pointer = UnsafeMutablePointer<CArrow.ArrowArray>.allocate(capacity: 1)
    init() { pointer.initialize(to: CArrow.ArrowArray()) }
    deinit {
        if let release = pointer.pointee.release { release(pointer) }
        pointer.deallocate()
    }
}

/// A heap-allocated, zero-initialised C schema struct.
final class CSchemaBox {
    let pointer = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: 1)
    init() { pointer.initialize(to: ArrowSchema()) }
    deinit {
        if let release = pointer.pointee.release { release(pointer) }
        pointer.deallocate()
    }
}

/// A heap-allocated, zero-initialised C stream struct.
final class CStreamBox {
    let pointer = UnsafeMutablePointer<ArrowArrayStream>.allocate(capacity: 1)
    init() { pointer.initialize(to: ArrowArrayStream()) }
    deinit {
        if let release = pointer.pointee.release { release(pointer) }
        pointer.deallocate()
    }
}

/// Exports `array` to C, lets `edit` tamper with the C struct, and imports it back.
func roundTrip(_ array: ArrowArray, edit: (inout CArrow.ArrowArray) -> Void = { _ in }) throws -> ArrowArray {
    let box = CArrayBox()
    array.export(to: box.pointer)
    edit(&box.pointer.pointee)
    return try ArrowArray(consuming: box.pointer, type: array.type)
}

/// Exports a type as a C schema and parses it back.
func schemaRoundTrip(_ field: ArrowField) throws -> ArrowField {
    let box = CSchemaBox()
    field.exportSchema(to: box.pointer)
    return try ArrowField(schema: box.pointer)
}

/// Wraps a Swift array of bytes as foreign memory whose release is counted.
final class ForeignBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(_ bytes: [UInt8]) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { if let base = $0.baseAddress { pointer.copyMemory(from: base, byteCount: bytes.count) } }
    }
    deinit { pointer.deallocate() }
    var raw: UnsafeRawPointer { UnsafeRawPointer(pointer) }
}

/// The little-endian bytes of fixed-width values.
func bytes<T>(of values: [T]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
}

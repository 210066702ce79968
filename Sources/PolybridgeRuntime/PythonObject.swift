import CPython

/// A strong reference to a Python object that any thread may hold.
///
/// The reference is dropped under the GIL when the Swift object is deinitialised.
public final class PythonObject: @unchecked Sendable {
    /// The owned `PyObject*`; use only while holding the GIL.
    public let pointer: OpaquePointer

    /// Takes ownership of a new reference.
    public init(owning pointer: OpaquePointer) {
        self.pointer = pointer
    }

    /// Adds a reference to a borrowed pointer and owns it.
    public convenience init(borrowing pointer: OpaquePointer) {
        pb_py_incref(pointer)
        self.init(owning: pointer)
    }

    deinit {
        let state = pb_py_gil_ensure()
        pb_py_decref(pointer)
        pb_py_gil_release(state)
    }
}

/// Proof that the current thread holds the GIL; handed to closures passed to `PythonRuntime.withGIL`.
///
/// Not `Sendable`: it must stay on the thread that took the GIL.
public struct PythonGIL {
    init() {}

    /// Throws the pending Python exception as a `PythonError`, if there is one.
    public func checkError() throws(PythonError) {
        if pb_py_error_occurred() != 0 { throw fetchError() }
    }

    /// Returns `pointer` as an owned object, or throws the pending exception when it is NULL.
    public func own(_ pointer: OpaquePointer?) throws(PythonError) -> PythonObject {
        guard let pointer else {
            throw fetchError()
        }
        return PythonObject(owning: pointer)
    }

    /// Takes the pending exception and formats it with `traceback.format_exception`.
    public func fetchError() -> PythonError {
        var type: OpaquePointer?, value: OpaquePointer?, traceback: OpaquePointer?
        pb_py_error_fetch(&type, &value, &traceback)
        defer {
            for object in [type, value, traceback] { if let object { pb_py_decref(object) } }
        }
        guard let type else {
            return .exception(type: "SystemError", message: "a Python call failed without setting an exception", traceback: "")
        }
        let typeName = attributeString(type, "__name__") ?? "Exception"
        let message = value.flatMap { stringValue(pb_py_str($0)) } ?? ""
        var formatted = ""
        if let module = pb_py_import("traceback"), let format = pb_py_get_attribute(module, "format_exception") {
            let arguments = pb_py_tuple_new(3)!
            for (index, item) in [type, value, traceback].enumerated() {
                let object = item ?? pb_py_none()!
                pb_py_incref(object)
                _ = pb_py_tuple_set(arguments, index, object)
            }
            if let lines = pb_py_call(format, arguments, nil) {
                let count = pb_py_sequence_length(lines)
                for index in 0..<max(0, count) {
                    if let line = pb_py_sequence_item(lines, index) {
                        formatted += stringValue(line) ?? ""
                    }
                }
                pb_py_decref(lines)
            }
            pb_py_decref(arguments)
            pb_py_decref(format)
            pb_py_decref(module)
        }
        pb_py_error_clear()
        return .exception(type: typeName, message: message, traceback: formatted)
    }

    /// Consumes a new reference to a `str` and returns its text (nil when not a str).
    public func stringValue(_ object: OpaquePointer?) -> String? {
        guard let object else { pb_py_error_clear(); return nil }
        defer { pb_py_decref(object) }
        var length = 0
        guard let bytes = pb_py_as_utf8(object, &length) else { pb_py_error_clear(); return nil }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    }

    private func attributeString(_ object: OpaquePointer, _ name: String) -> String? {
        stringValue(pb_py_get_attribute(object, name))
    }

    /// Copies a Python object into a `PythonValue`.
    public func value(of object: OpaquePointer) throws(PythonError) -> PythonValue {
        if object == pb_py_none() { return .none }
        if pb_py_is_bool(object) != 0 { return .bool(pb_py_is_true(object) == 1) }
        if pb_py_is_int(object) != 0 {
            let number = pb_py_as_long_long(object)
            if number == -1 && pb_py_error_occurred() != 0 {
                pb_py_error_clear()
                return .other(type: "int", repr: stringValue(pb_py_repr(object)) ?? "")
            }
            return .int(Int64(number))
        }
        if pb_py_is_float(object) != 0 { return .float(pb_py_as_double(object)) }
        if pb_py_is_str(object) != 0 {
            var length = 0
            guard let bytes = pb_py_as_utf8(object, &length) else { throw fetchError() }
            return .string(String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self))
        }
        if pb_py_is_list(object) != 0 || pb_py_is_tuple(object) != 0 {
            let count = pb_py_sequence_length(object)
            var items: [PythonValue] = []
            for index in 0..<max(0, count) {
                let item = try own(pb_py_sequence_item(object, index))
                items.append(try value(of: item.pointer))
            }
            return .list(items)
        }
        if pb_py_is_dict(object) != 0 {
            let items = try own(pb_py_dict_items(object))
            var pairs: [(key: String, value: PythonValue)] = []
            for index in 0..<max(0, pb_py_sequence_length(items.pointer)) {
                let pair = try own(pb_py_sequence_item(items.pointer, index))
                let key = try own(pb_py_sequence_item(pair.pointer, 0))
                let item = try own(pb_py_sequence_item(pair.pointer, 1))
                guard case .string(let text) = try value(of: key.pointer) else {
                    throw .conversion("dictionary keys must be str to convert to Swift")
                }
                pairs.append((text, try value(of: item.pointer)))
            }
            return .dictionary(pairs)
        }
        let type = stringValue(pb_py_type_name(object)) ?? "object"
        return .other(type: type, repr: stringValue(pb_py_repr(object)) ?? "")
    }

    /// Makes a new Python object from a `PythonValue`.
    public func make(_ value: PythonValue) throws(PythonError) -> PythonObject {
        switch value {
        case .none: return PythonObject(borrowing: pb_py_none())
        case .bool(let b): return try own(pb_py_from_bool(b ? 1 : 0))
        case .int(let i): return try own(pb_py_from_long_long(i))
        case .float(let d): return try own(pb_py_from_double(d))
        case .string(let s):
            var text = s
            return try own(text.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { pb_py_from_utf8($0.baseAddress, bytes.count) }
            })
        case .list(let items):
            let list = try own(pb_py_list_new(items.count))
            for (index, item) in items.enumerated() {
                let element = try make(item)
                pb_py_incref(element.pointer)
                _ = pb_py_list_set(list.pointer, index, element.pointer)
            }
            return list
        case .dictionary(let pairs):
            let dictionary = try own(pb_py_dict_new())
            for (key, item) in pairs {
                let element = try make(item)
                guard pb_py_dict_set(dictionary.pointer, key, element.pointer) == 0 else { throw fetchError() }
            }
            return dictionary
        case .other(let type, _):
            throw .conversion("cannot make a Python \(type) from Swift")
        }
    }
}

extension PythonValue: CustomStringConvertible {
    /// The value as Python's `repr()` writes it: `None`, `True`, `1.5`, `'text'`, `[1, 'a']`,
    /// `{'a': 1}`; other objects show the `repr()` they were read with. Tuples were read as
    /// lists and print as lists.
    public var description: String {
        switch self {
        case .none: return "None"
        case .bool(let value): return value ? "True" : "False"
        case .int(let value): return String(value)
        // Swift's shortest round-trip form and its switch to exponents match float.__repr__.
        case .float(let value): return value.description
        case .string(let value): return PythonValue.repr(value)
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .dictionary(let items):
            return "{" + items.map { PythonValue.repr($0.key) + ": " + $0.value.description }.joined(separator: ", ") + "}"
        case .other(_, let repr): return repr
        }
    }

    /// A `str`'s repr: single quotes unless the text holds a single quote and no double quote;
    /// backslash escapes for the quote, backslashes, control and other unprintable characters.
    static func repr(_ text: String) -> String {
        let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var result = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if Character(scalar) == quote {
                    result += "\\" + String(quote)
                } else if isPrintable(scalar) {
                    result.unicodeScalars.append(scalar)
                } else if scalar.value < 0x100 {
                    result += "\\x" + hex(scalar.value, digits: 2)
                } else if scalar.value < 0x10000 {
                    result += "\\u" + hex(scalar.value, digits: 4)
                } else {
                    result += "\\U" + hex(scalar.value, digits: 8)
                }
            }
        }
        result.append(quote)
        return result
    }

    /// Python's `str.isprintable()` for one character: everything except the "Other" and
    /// "Separator" categories, the space excepted.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

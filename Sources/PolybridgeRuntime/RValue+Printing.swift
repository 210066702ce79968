extension RValue: CustomStringConvertible {
    /// The value as R's `print()` shows it at the default width of 80 columns, without the
    /// final newline: `[1] a    <NA> b` and `Levels: a b` for `factor(c("a", NA, "b"))`, names
    /// above values, matrices with their row and column labels, lists element by element.
    ///
    /// Objects that are only described (`.other`) print as `<closure>` or `<S4: myClass>`.
    public var description: String {
        var printer = RPrinter()
        printer.print(self, tag: "")
        var text = printer.lines.joined(separator: "\n")
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

/// Renders values line by line following R's print methods (`print.default`, `print.factor`,
/// `print.Date`, `print.POSIXct`, `printMatrix`, `printList`).
struct RPrinter {
    static let width = 80
    var lines: [String] = []

    mutating func print(_ value: RValue, tag: String) {
        switch value {
        case .null:
            lines.append("NULL")
        case .list(let items, let names):
            printList(items, names: names, tag: tag)
        case .other(let type, let classes):
            lines.append(classes.isEmpty ? "<\(type)>" : "<\(type): \(classes.joined(separator: "/"))>")
        case .structure(let inner, let names, let dim, let dimnames):
            if case .list(let items, let listNames) = inner {
                // A list with a dim is shown as the list it holds.
                printList(items, names: names ?? listNames, tag: tag)
            } else if let dim, dim.count >= 2 {
                printArray(inner, dim: dim, dimnames: dimnames)
            } else if let labels = names ?? (dim?.count == 1 ? dimnames?.first ?? nil : nil) {
                printNamed(inner, names: labels)
            } else {
                print(inner, tag: tag)
            }
        default:
            printVector(value)
        }
    }

    // MARK: Vectors

    /// The elements as R formats them for `print()`, and whether they are left-aligned (quoted
    /// strings and factor labels are, numbers are not).
    static func cells(_ value: RValue, quoted: Bool = true) -> (cells: [String], leftAligned: Bool) {
        switch value {
        case .logical(let v): return (RPrintFormat.logicals(v), false)
        case .integer(let v): return (RPrintFormat.integers(v), false)
        case .double(let v): return (RPrintFormat.doubles(v), false)
        case .character(let v): return (v.map { RPrintFormat.string($0, quoted: quoted) }, true)
        case .factor:
            return ((value.factorLabels ?? []).map { RPrintFormat.string($0, quoted: false) }, true)
        case .date(let days):
            return (days.map { RPrintFormat.string(RPrintFormat.date(days: $0), quoted: quoted) }, true)
        case .dateTime(let seconds, let zone):
            return (RPrintFormat.dateTimes(seconds, timeZone: zone).map { RPrintFormat.string($0, quoted: quoted) }, true)
        case .structure(let inner, _, _, _): return cells(inner, quoted: quoted)
        case .null, .list, .other: return ([], false)
        }
    }

    /// What R prints for a vector of length zero.
    static func emptyVector(_ value: RValue) -> String {
        switch value {
        case .logical: return "logical(0)"
        case .integer: return "integer(0)"
        case .double: return "numeric(0)"
        case .character: return "character(0)"
        case .factor: return "factor(0)"
        case .date: return "Date of length 0"
        case .dateTime: return "POSIXct of length 0"
        case .list: return "list()"
        default: return "NULL"
        }
    }

    private mutating func printVector(_ value: RValue) {
        let (cells, leftAligned) = RPrinter.cells(value)
        if cells.isEmpty {
            lines.append(RPrinter.emptyVector(value))
        } else {
            let width = cells.map(RPrintFormat.width).max() ?? 0
            let labelWidth = String(cells.count).count + 2
            var line = "[1]".leftPadded(to: labelWidth), lineWidth = labelWidth
            for (index, cell) in cells.enumerated() {
                if index > 0 && lineWidth + width + 1 > RPrinter.width {
                    lines.append(line)
                    line = "[\(index + 1)]".leftPadded(to: labelWidth)
                    lineWidth = labelWidth
                }
                line += " " + (leftAligned ? cell.rightPadded(to: width) : cell.leftPadded(to: width))
                lineWidth += width + 1
            }
            lines.append(line)
        }
        printLevels(of: value)
    }

    /// The names right-aligned above the values, as many columns as fit in 80 characters.
    private mutating func printNamed(_ value: RValue, names: [String?]) {
        let (cells, _) = RPrinter.cells(value, quoted: !isFactor(value))
        if cells.isEmpty {
            lines.append("named " + RPrinter.emptyVector(value))
        } else {
            let labels = names.map { RPrintFormat.string($0, quoted: false) }
            let width = (cells + labels).map(RPrintFormat.width).max() ?? 0
            let perLine = max(1, RPrinter.width / (width + 1))
            for start in stride(from: 0, to: cells.count, by: perLine) {
                let range = start..<min(cells.count, start + perLine)
                lines.append(range.map { labels[$0].leftPadded(to: width) + " " }.joined())
                lines.append(range.map { cells[$0].leftPadded(to: width) + " " }.joined())
            }
        }
        printLevels(of: value)
    }

    private func isFactor(_ value: RValue) -> Bool {
        if case .factor = value.unstructured { return true }
        return false
    }

    /// A factor's "Levels:" line, shortened with "..." when the levels do not fit, as
    /// `print.factor` does.
    private mutating func printLevels(of value: RValue) {
        guard case .factor(let levels, _, let ordered) = value.unstructured else { return }
        let labels = levels.map { RPrintFormat.string($0, quoted: false) }
        let separator = ordered ? " < " : " "
        let available = RPrinter.width - ("Levels: ".count + 3 + 1 + 3)
        var cumulative = 0
        var fitting = labels.count
        if labels.count > 1 {
            let widths = labels.map { cumulative += RPrintFormat.width($0) + separator.count; return cumulative }
            if widths[labels.count - 1] > available {
                // R: max(1, which.max(lenl > width) - 1), with which.max counting from 1.
                fitting = max(1, widths.firstIndex { $0 > available } ?? labels.count)
            }
        }
        if fitting < labels.count {
            var shown = Array(labels[0..<max(1, fitting - 1)]) + ["..."]
            if fitting > 1 { shown.append(labels[labels.count - 1]) }
            lines.append("\(labels.count) Levels: " + shown.joined(separator: separator))
        } else {
            lines.append("Levels: " + labels.joined(separator: separator))
        }
    }

    // MARK: Matrices and arrays

    private mutating func printArray(_ value: RValue, dim: [Int], dimnames: [[String?]?]?) {
        let (rows, columns) = (dim[0], dim[1])
        let sliceSize = rows * columns
        let slices = dim.dropFirst(2).reduce(1, *)
        for slice in 0..<slices {
            if dim.count > 2 {
                var rest = slice, indices: [String] = []
                for (offset, extent) in dim.dropFirst(2).enumerated() {
                    let index = rest % extent
                    rest /= extent
                    indices.append(dimnames?[offset + 2]?[index] ?? "\(index + 1)")
                }
                lines.append(", , " + indices.joined(separator: ", "))
                lines.append("")
            }
            printMatrix(value, offset: slice * sliceSize, rows: rows, columns: columns,
                        rowNames: dimnames?[0], columnNames: dimnames?[1])
            if dim.count > 2 { lines.append("") }
        }
        printLevels(of: value)
    }

    private mutating func printMatrix(_ value: RValue, offset: Int, rows: Int, columns: Int,
                                      rowNames: [String?]?, columnNames: [String?]?) {
        let labelsForRows: [String] = (0..<rows).map { row in
            if let rowNames { return RPrintFormat.string(rowNames[row], quoted: false) }
            return "[\(row + 1),]"
        }
        let rowLabelWidth = rowNames == nil ? String(rows).count + 3 : (labelsForRows.map(RPrintFormat.width).max() ?? 0)
        var columnCells: [[String]] = [], columnWidths: [Int] = [], headers: [String] = []
        var leftAligned = false
        for column in 0..<columns {
            let start = offset + column * rows
            let (cells, left) = RPrinter.cells(RPrinter.slice(value, start..<start + rows), quoted: !isFactor(value))
            leftAligned = left
            let header = columnNames.map { RPrintFormat.string($0[column], quoted: false) } ?? "[,\(column + 1)]"
            columnCells.append(cells)
            headers.append(header)
            columnWidths.append(([header] + cells).map(RPrintFormat.width).max() ?? 0)
        }
        var first = 0
        repeat {
            // As many columns as fit in the line (R's printMatrix test: strictly less than 80).
            var last = first, used = rowLabelWidth
            repeat {
                used += columnWidths[last] + 1
                last += 1
            } while last < columns && used + columnWidths[last] + 1 < RPrinter.width
            let block = first..<max(last, first)
            let align: (String, Int) -> String = { leftAligned ? $0.rightPadded(to: $1) : $0.leftPadded(to: $1) }
            lines.append(String(repeating: " ", count: rowLabelWidth) + block.map { " " + align(headers[$0], columnWidths[$0]) }.joined())
            for row in 0..<rows {
                let label = rowNames == nil ? labelsForRows[row].leftPadded(to: rowLabelWidth) : labelsForRows[row].rightPadded(to: rowLabelWidth)
                lines.append(label + block.map { " " + align(columnCells[$0][row], columnWidths[$0]) }.joined())
            }
            first = last
        } while first < columns
    }

    /// Elements `range` of an atomic value (same kind, no structure).
    static func slice(_ value: RValue, _ range: Range<Int>) -> RValue {
        switch value {
        case .logical(let v): return .logical(Array(v[range]))
        case .integer(let v): return .integer(Array(v[range]))
        case .double(let v): return .double(Array(v[range]))
        case .character(let v): return .character(Array(v[range]))
        case .factor(let levels, let codes, let ordered): return .factor(levels: levels, codes: Array(codes[range]), ordered: ordered)
        case .date(let days): return .date(days: Array(days[range]))
        case .dateTime(let seconds, let zone): return .dateTime(seconds: Array(seconds[range]), timeZone: zone)
        case .structure(let inner, _, _, _): return slice(inner, range)
        case .null, .list, .other: return value
        }
    }

    // MARK: Lists

    private mutating func printList(_ items: [RValue], names: [String?]?, tag: String) {
        guard !items.isEmpty else {
            lines.append(names == nil ? "list()" : "named list()")
            return
        }
        for (index, item) in items.enumerated() {
            // nil: the list has no names; .some(nil): this element's name is NA.
            let name: String?? = names.map { $0[index] }
            let itemTag: String
            switch name {
            case .some(.some(let name)) where !name.isEmpty:
                itemTag = tag + "$" + (RPrinter.isSyntacticName(name) ? name : "`\(name)`")
            case .some(.none):
                itemTag = tag + "$<NA>"
            default:
                itemTag = tag + "[[\(index + 1)]]"
            }
            lines.append(itemTag)
            if case .list(let inner, let innerNames) = item, !inner.isEmpty {
                printList(inner, names: innerNames, tag: itemTag)
            } else {
                print(item, tag: itemTag)
            }
            lines.append("")
        }
    }

    /// Whether R prints `name` after `$` without backquotes.
    static func isSyntacticName(_ name: String) -> Bool {
        let reserved: Set<String> = ["if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE",
                                     "FALSE", "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "in"]
        guard let first = name.first, first.isLetter || first == ".", !reserved.contains(name) else { return false }
        if first == ".", let second = name.dropFirst().first, second.isNumber { return false }
        return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" }
    }
}

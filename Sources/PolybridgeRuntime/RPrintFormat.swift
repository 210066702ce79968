import Foundation

/// R's rules for turning vector elements into text (`format()` with R's default options:
/// 7 significant digits, `scipen = 0`), so that printed values read as R prints them.
enum RPrintFormat {
    /// Doubles formatted with one common layout, as R's `formatReal` chooses it: fixed notation
    /// with the fewest decimals that show every value to 7 significant digits, or scientific
    /// when that is narrower. `NA`, `NaN` and `Inf` print as R spells them.
    static func doubles(_ values: [Double?]) -> [String] {
        var negative = false
        var maxLeftWidth = 1, maxRight = Int.min, maxSignificant = Int.min
        var maxExponent = Int.min, minExponent = Int.max
        for case let value? in values where value.isFinite {
            let (significant, exponent) = significantDigits(value)
            let isNegative = value < 0
            if isNegative { negative = true }
            let left = exponent + 1
            maxLeftWidth = max(maxLeftWidth, (isNegative ? 1 : 0) + (left <= 0 ? 1 : left))
            maxRight = max(maxRight, significant - left)
            maxSignificant = max(maxSignificant, significant)
            maxExponent = max(maxExponent, exponent)
            minExponent = min(minExponent, exponent)
        }
        var scientific = false, decimals = 0
        if maxSignificant != Int.min {
            let right = max(0, maxRight)
            let fixedWidth = maxLeftWidth + right + (right > 0 ? 1 : 0)
            let exponentDigits = (maxExponent >= 100 || minExponent <= -99) ? 2 : 1
            let scientificDecimals = maxSignificant - 1
            let scientificWidth = (negative ? 1 : 0) + (scientificDecimals > 0 ? 1 : 0) + scientificDecimals + 4 + exponentDigits
            if fixedWidth <= scientificWidth {
                decimals = right
            } else {
                scientific = true
                decimals = scientificDecimals
            }
        }
        return values.map { value in
            guard let value else { return "NA" }
            if value.isNaN { return "NaN" }
            if value.isInfinite { return value < 0 ? "-Inf" : "Inf" }
            return String(format: scientific ? "%.*e" : "%.*f", decimals, value)
        }
    }

    /// The significant digits (1...7) needed to show `value` to 7 digits, and its decimal exponent.
    private static func significantDigits(_ value: Double) -> (Int, Int) {
        guard value != 0 else { return (1, 0) }
        // "%.6e" rounds to 7 significant digits exactly as R's sprintf-based path does.
        let text = String(format: "%.6e", abs(value))
        guard let e = text.firstIndex(of: "e"), let exponent = Int(text[text.index(after: e)...]) else { return (7, 0) }
        let digits = text[..<e].filter { $0 != "." }
        let trailingZeros = digits.reversed().prefix { $0 == "0" }.count
        return (max(1, digits.count - trailingZeros), exponent)
    }

    /// Integers as R prints them (`NA` for missing).
    static func integers(_ values: [Int32?]) -> [String] {
        values.map { $0.map(String.init) ?? "NA" }
    }

    /// Logicals as R prints them.
    static func logicals(_ values: [Bool?]) -> [String] {
        values.map { $0.map { $0 ? "TRUE" : "FALSE" } ?? "NA" }
    }

    /// A string as R's `print()` shows it: in double quotes with escapes when `quoted`, else as
    /// is (a factor's labels); `NA` is `NA` quoted and `<NA>` unquoted.
    static func string(_ value: String?, quoted: Bool) -> String {
        guard let value else { return quoted ? "NA" : "<NA>" }
        guard quoted else { return value }
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            case "\r": text += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    text += "\\" + String(scalar.value, radix: 8).leftPadded(to: 3, with: "0")
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        return text + "\""
    }

    /// The calendar date (proleptic Gregorian, as R computes it) `days` after 1970-01-01.
    static func civilDate(days: Int) -> (year: Int, month: Int, day: Int) {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// A date as R's `format()` writes it ("2024-02-29"; years as plain numbers, like R on Linux).
    static func date(days: Double?) -> String? {
        guard let days else { return nil }
        if days.isNaN { return "NaN" }
        if days.isInfinite { return days < 0 ? "-Inf" : "Inf" }
        guard let whole = Int(exactly: days.rounded(.down)) else { return nil }
        let (year, month, day) = civilDate(days: whole)
        return "\(year)-\(twoDigits(month))-\(twoDigits(day))"
    }

    /// Date-times as R's `print()` shows them: "2024-01-01 12:00:00 CET", or the date alone when
    /// every time of day is midnight; seconds are truncated, as R does without `digits.secs`.
    static func dateTimes(_ seconds: [Double?], timeZone: String?) -> [String?] {
        let zone = RTimeZone.named(timeZone)
        var wallClock: [(days: Int, secondOfDay: Int, abbreviation: String)?] = []
        for value in seconds {
            guard let value, value.isFinite, abs(value) < 1e17 else { wallClock.append(nil); continue }
            let whole = Int(value.rounded(.down))
            let (offset, abbreviation) = zone.offset(at: whole)
            let local = whole + offset
            let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
            wallClock.append((days, local - days * 86_400, abbreviation))
        }
        let dateOnly = wallClock.allSatisfy { $0 == nil || $0!.secondOfDay == 0 }
        return zip(seconds, wallClock).map { value, clock in
            guard let clock else {
                guard let value, !value.isNaN else { return nil }
                return value.isInfinite ? (value < 0 ? "-Inf" : "Inf") : nil
            }
            let (year, month, day) = civilDate(days: clock.days)
            var text = "\(year)-\(twoDigits(month))-\(twoDigits(day))"
            if !dateOnly {
                let s = clock.secondOfDay
                text += " \(twoDigits(s / 3600)):\(twoDigits(s / 60 % 60)):\(twoDigits(s % 60))"
            }
            return text + " " + clock.abbreviation
        }
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    /// How many characters `text` takes on the console (R counts characters, not bytes).
    static func width(_ text: String) -> Int {
        text.count
    }
}

extension String {
    /// The string padded on the left with `pad` to `width` characters.
    func leftPadded(to width: Int, with pad: Character = " ") -> String {
        let missing = width - count
        return missing > 0 ? String(repeating: pad, count: missing) + self : self
    }

    /// The string padded on the right with spaces to `width` characters.
    func rightPadded(to width: Int) -> String {
        let missing = width - count
        return missing > 0 ? self + String(repeating: " ", count: missing) : self
    }
}

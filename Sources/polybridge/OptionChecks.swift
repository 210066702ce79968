import ArgumentParser

/// Range checks for numeric options, shared by the commands' `validate()`: a count or a number of
/// seconds outside its range is a usage error (exit 64) before anything runs, never a trap in a
/// conversion (`Int(Double.nan)`) or a range (`0..<-1`) later.
enum OptionChecks {
    /// The longest `--timeout` accepted: about 11.6 days. Far beyond any chunk, and far below
    /// what a `Duration` holds.
    static let maximumSeconds = 1_000_000.0

    /// Throws unless `value` is at least `minimum` (1 unless given).
    static func count(_ value: Int, _ option: String, minimum: Int = 1) throws {
        guard value >= minimum else { throw ValidationError("\(option) must be at least \(minimum) (got \(value))") }
    }

    /// Throws unless `value` is a finite number of seconds above 0 and at most ``maximumSeconds``
    /// (`nan`, `inf`, `1e300`, `0` and negative values are refused).
    static func seconds(_ value: Double, _ option: String) throws {
        guard value.isFinite, value > 0, value <= maximumSeconds else {
            throw ValidationError("\(option) must be a number of seconds above 0 and at most \(Int(maximumSeconds)) (got \(value))")
        }
    }
}

/// The resolution of an Arrow timestamp (seconds down to nanoseconds since the epoch).
public enum ArrowTimeUnit: Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    /// Whole seconds.
    case second
    /// Milliseconds (10⁻³ s).
    case millisecond
    /// Microseconds (10⁻⁶ s).
    case microsecond
    /// Nanoseconds (10⁻⁹ s).
    case nanosecond

    /// The letter used in Arrow format strings: "s", "m", "u" or "n".
    public var formatLetter: String {
        switch self {
        case .second: "s"
        case .millisecond: "m"
        case .microsecond: "u"
        case .nanosecond: "n"
        }
    }

    /// How many ticks of this unit make one second.
    public var perSecond: Int64 {
        switch self {
        case .second: 1
        case .millisecond: 1_000
        case .microsecond: 1_000_000
        case .nanosecond: 1_000_000_000
        }
    }

    /// The conventional abbreviation: "s", "ms", "us" or "ns".
    public var description: String {
        switch self {
        case .second: "s"
        case .millisecond: "ms"
        case .microsecond: "us"
        case .nanosecond: "ns"
        }
    }

    /// Creates the unit for an Arrow format letter ("s", "m", "u", "n"), or nil for any other.
    public init?(formatLetter: Character) {
        switch formatLetter {
        case "s": self = .second
        case "m": self = .millisecond
        case "u": self = .microsecond
        case "n": self = .nanosecond
        default: return nil
        }
    }
}

import Foundation
import Synchronization

/// A time zone's UTC offsets and abbreviations ("CET", "EDT"), read from the system's zoneinfo
/// files as R reads them, so printed times carry the abbreviation R prints. Foundation on Linux
/// only knows "GMT+1"-style abbreviations.
struct RTimeZone: Sendable {
    /// One local time type of the zone: its offset from UTC, whether it is daylight time, and
    /// its abbreviation.
    struct LocalTimeType: Sendable {
        var offset: Int
        var isDaylight: Bool
        var abbreviation: String
    }

    let name: String
    /// Transition instants (seconds since the epoch), ascending, and the type each one starts.
    private let transitions: [Int]
    private let transitionTypes: [Int]
    private let types: [LocalTimeType]
    /// Foundation's zone, for instants after the file's last transition (its rule takes over).
    private let foundationZone: TimeZone?

    private static let cache = Mutex<[String: RTimeZone]>([:])

    /// The zone R would use for a `tzone` attribute: the session's local zone (`TZ`, else the
    /// system's) for `nil` or `""`; UTC with the name as abbreviation for an unknown name, as R
    /// does on Linux.
    static func named(_ name: String?) -> RTimeZone {
        let resolved = (name?.isEmpty ?? true) ? localZoneName() : name!
        if let cached = cache.withLock({ $0[resolved] }) { return cached }
        let zone = load(resolved) ?? RTimeZone(name: resolved, transitions: [], transitionTypes: [],
                                               types: [LocalTimeType(offset: 0, isDaylight: false, abbreviation: unknownAbbreviation(resolved))],
                                               foundationZone: nil)
        cache.withLock { $0[resolved] = zone }
        return zone
    }

    /// The offset from UTC and the abbreviation in force at `instant` (seconds since the epoch).
    func offset(at instant: Int) -> (Int, String) {
        guard let last = transitions.last else { return (types[0].offset, types[0].abbreviation) }
        if instant < transitions[0] { return (types[0].offset, types[0].abbreviation) }
        if instant >= last, let foundationZone {
            // Past the table: Foundation applies the zone's rule; the abbreviation comes from the
            // type of the same offset and kind, searched from the latest transitions back.
            let date = Date(timeIntervalSince1970: Double(instant))
            let offset = foundationZone.secondsFromGMT(for: date)
            let daylight = foundationZone.isDaylightSavingTime(for: date)
            for index in transitionTypes.reversed() where types[index].offset == offset && types[index].isDaylight == daylight {
                return (offset, types[index].abbreviation)
            }
            return (offset, foundationZone.abbreviation(for: date) ?? name)
        }
        var low = 0, high = transitions.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if transitions[middle] <= instant { low = middle } else { high = middle - 1 }
        }
        let type = types[transitionTypes[low]]
        return (type.offset, type.abbreviation)
    }

    private static func localZoneName() -> String {
        if let tz = ProcessInfo.processInfo.environment["TZ"], !tz.isEmpty {
            return tz.hasPrefix(":") ? String(tz.dropFirst()) : tz
        }
        return TimeZone.current.identifier
    }

    /// glibc reads an unknown TZ as a POSIX rule whose name is the text before any digit or '/'.
    private static func unknownAbbreviation(_ name: String) -> String {
        String(name.prefix { $0.isLetter })
    }

    private static func load(_ name: String) -> RTimeZone? {
        guard !name.contains(".."), !name.hasPrefix("/") else { return nil }
        let directories = [ProcessInfo.processInfo.environment["TZDIR"], "/usr/share/zoneinfo", "/usr/lib/zoneinfo",
                           "/usr/share/lib/zoneinfo"].compactMap { $0 }
        for directory in directories {
            if let data = FileManager.default.contents(atPath: directory + "/" + name),
               let zone = parse(data, name: name) {
                return zone
            }
        }
        return nil
    }

    /// Parses a TZif file (RFC 8536), using the 64-bit section when there is one.
    private static func parse(_ data: Data, name: String) -> RTimeZone? {
        let bytes = [UInt8](data)
        guard bytes.count >= 44, bytes[0..<4].elementsEqual("TZif".utf8) else { return nil }
        func integer(_ at: Int, _ width: Int) -> Int? {
            guard at >= 0, at + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[at..<at + width] { value = value << 8 | Int(byte) }
            // Sign-extend.
            let bits = width * 8
            return bits < 64 && value >= 1 << (bits - 1) ? value - (1 << bits) : value
        }
        func counts(_ header: Int) -> [Int]? {
            (0..<6).map { integer(header + 20 + 4 * $0, 4) }.reduce([Int]?([])) { list, item in
                guard let list, let item, item >= 0 else { return nil }
                return list + [item]
            }
        }
        guard var c = counts(0) else { return nil }
        var header = 0, timeWidth = 4
        if bytes[4] >= UInt8(ascii: "2") {
            // Skip the 32-bit body: times, type indices, types, abbreviations, leaps, two flag sets.
            let body = c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]
            header = 44 + body
            timeWidth = 8
            guard let wide = counts(header) else { return nil }
            c = wide
        }
        let (timeCount, typeCount, abbreviationBytes) = (c[3], c[4], c[5])
        var at = header + 44
        var transitions: [Int] = [], transitionTypes: [Int] = [], types: [LocalTimeType] = []
        for index in 0..<timeCount {
            guard let time = integer(at + index * timeWidth, timeWidth) else { return nil }
            transitions.append(time)
        }
        at += timeCount * timeWidth
        for index in 0..<timeCount {
            guard at + index < bytes.count, Int(bytes[at + index]) < typeCount else { return nil }
            transitionTypes.append(Int(bytes[at + index]))
        }
        at += timeCount
        let abbreviationsStart = at + typeCount * 6
        guard typeCount > 0, abbreviationsStart + abbreviationBytes <= bytes.count else { return nil }
        for index in 0..<typeCount {
            let entry = at + index * 6
            guard let offset = integer(entry, 4) else { return nil }
            let start = abbreviationsStart + Int(bytes[entry + 5])
            guard start < abbreviationsStart + abbreviationBytes else { return nil }
            let end = bytes[start..<abbreviationsStart + abbreviationBytes].firstIndex(of: 0) ?? abbreviationsStart + abbreviationBytes
            types.append(LocalTimeType(offset: offset, isDaylight: bytes[entry + 4] != 0,
                                       abbreviation: String(decoding: bytes[start..<end], as: UTF8.self)))
        }
        return RTimeZone(name: name, transitions: transitions, transitionTypes: transitionTypes, types: types,
                         foundationZone: TimeZone(identifier: name))
    }
}

import Foundation

/// How much memory a fit may plan to use: `POLYBRIDGE_MEMORY_LIMIT` (bytes, or with a K, M or
/// G suffix) when set, else what the kernel says is available now (`MemAvailable`).
enum MemoryLimit {
    /// The limit in bytes, or nil when neither source says.
    static func bytes(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        if let text = environment["POLYBRIDGE_MEMORY_LIMIT"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            let scale: [Character: Double] = ["K": 1e3, "M": 1e6, "G": 1e9]
            let unit = text.last.flatMap { scale[Character($0.uppercased())] }
            if let number = Double(unit == nil ? text : String(text.dropLast())), number > 0, number.isFinite {
                return Int(min(number * (unit ?? 1), Double(Int.max / 2)))
            }
        }
        guard let info = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return kilobytes * 1024
    }
}

import ArgumentParser
import Foundation
import Polybridge

/// `polybridge stress errors`: raises R errors in a loop and reports memory, for the leak test.
///
/// Runs in its own process so resident memory reflects only this loop.
struct Stress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Raise many R errors through the bridge and report resident memory (JSON).",
        shouldDisplay: false)

    @Option(help: "Number of R errors to raise.")
    var count = 10_000

    func run() async throws {
        let r = try RRuntime.shared()
        let cases: [(code: String, expected: String)] = [
            ("stop('failure number 7')", "failure number 7"),
            ("1 +* 2", "unexpected '*'"),
            ("as.numeric(list(1, 2:3))", "object cannot be coerced to type 'double'"),
        ]
        var caught = 0, wrongMessages: [String] = []
        func once(_ index: Int) async {
            let (code, expected) = cases[index % cases.count]
            do {
                _ = try await r.evaluate(code)
            } catch let error as RError {
                caught += 1
                if !error.conditionMessage.contains(expected), wrongMessages.count < 5 {
                    wrongMessages.append(error.conditionMessage)
                }
            } catch {
                if wrongMessages.count < 5 { wrongMessages.append("\(error)") }
            }
        }
        for index in 0..<1_000 { await once(index) }  // warm up R's and malloc's pools
        caught = 0
        let before = residentKilobytes()
        for index in 0..<count { await once(index) }
        let after = residentKilobytes()
        let report: [String: Any] = ["count": count, "caught": caught, "rssBeforeKB": before,
                                     "rssAfterKB": after, "wrongMessages": wrongMessages]
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }
}

/// Resident set size of this process in KiB, from /proc/self/statm.
func residentKilobytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
}

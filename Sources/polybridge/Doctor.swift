import ArgumentParser
import Foundation
import Polybridge

/// `polybridge doctor`: starts both runtimes and reports what was found and how.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start R and Python and report versions, paths and how each was found.")

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        let report = await DoctorReport.collect()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
        if !report.problems.isEmpty { throw ExitCode(1) }
    }
}

import ArgumentParser
import Foundation
import Polybridge

/// `polybridge stress corpus`: converts every `.rds` file in a directory into every format,
/// in this one process, and writes one JSON line per conversion (the format that
/// `pyscripts/check_corpus.py` checks). A conversion that crashed the process would end the
/// run: the last "converting" line on stderr names the input.
struct StressCorpus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "corpus",
        abstract: "Convert every RDS file of a corpus to every format in one process (JSON lines).")

    @Option(help: "Directory of .rds inputs.")
    var corpus: String

    @Option(help: "Directory for the outputs (created if missing).")
    var outputs: String

    @Option(help: "Where to write the results, one JSON object per line.")
    var results: String

    func run() async throws {
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        let inputs = try FileManager.default.contentsOfDirectory(atPath: corpus)
            .filter { $0.hasSuffix(".rds") }.sorted()
        guard FileManager.default.createFile(atPath: results, contents: nil) else {
            throw ValidationError("cannot create \(results)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: results))
        defer { try? handle.close() }
        for name in inputs {
            let input = (corpus as NSString).appendingPathComponent(name)
            let stem = (name as NSString).deletingPathExtension
            for format in ["csv", "feather", "parquet", "rds"] {
                let output = (outputs as NSString).appendingPathComponent("\(stem).\(format)")
                try? FileManager.default.removeItem(atPath: output)
                FileHandle.standardError.write(Data("converting \(input) to \(format)\n".utf8))
                var line: [String: Any] = ["input": input, "output": output, "format": format]
                do {
                    let summary = try await DataFiles.convert(input, to: output)
                    line["status"] = "ok"
                    line["message"] = "\(summary.rows) rows × \(summary.columns.count) columns"
                } catch {
                    line["status"] = "error"
                    line["message"] = String(describing: error)
                }
                var data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
                data.append(0x0A)
                handle.write(data)
            }
        }
    }
}

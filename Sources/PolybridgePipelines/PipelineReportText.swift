import Foundation

/// Text renderings of a pipeline and its run: the end-of-run table, the plan, and a Mermaid
/// graph of the DAG with nodes coloured by status.
public enum PipelineReportText {
    /// The table printed at the end of a run: each step's status, time, rows in and out,
    /// language and cache hit, then failures in full.
    public static func table(_ report: PipelineRunReport) -> String {
        let header = ["step", "kind", "language", "status", "time", "rows in", "rows out", "cache"]
        let rows = report.steps.map { record -> [String] in
            [record.id, record.kind, record.language, record.status.rawValue,
             record.seconds.map { String(format: "%.2f s", $0) } ?? "-",
             record.status == .skipped ? "-" : String(record.rowsIn), record.status == .skipped ? "-" : String(record.rowsOut),
             record.status == .cached ? "hit"
                : record.status != .done ? "-" : record.reason == PipelineCache.rewrittenReason ? "rewritten" : "miss"]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var text = "pipeline \(report.pipeline): " + summaryLine(report) + "\n"
        text += line(header) + "\n" + rows.map(line).joined(separator: "\n") + "\n"
        for record in report.steps where record.status == .failed || record.status == .skipped {
            text += "\n\(record.status == .failed ? "FAILED" : "skipped") \(record.id): \(record.error ?? "")\n"
        }
        return text
    }

    /// "7 steps: 5 done, 2 cached in 1.23 s" and the like.
    public static func summaryLine(_ report: PipelineRunReport) -> String {
        let counts = [PipelineStepRecord.Status.done, .cached, .failed, .skipped].compactMap { status -> String? in
            let count = report.steps.filter { $0.status == status }.count
            return count == 0 ? nil : "\(count) \(status.rawValue)"
        }
        return "\(report.steps.count) steps: \(counts.joined(separator: ", ")) in \(String(format: "%.2f", report.seconds)) s"
    }

    /// The plan (`--dry-run`/`--explain`): each step, what it reads, and whether it would run.
    public static func plan(_ pipeline: Pipeline, _ records: [PipelineStepRecord]) -> String {
        var text = "pipeline \(pipeline.name) (\(pipeline.steps.count) steps)\n"
        for (step, record) in zip(pipeline.steps, records) {
            let inputs = step.inputs.map { "\($0.name) ← \($0.step)\($0.output.map { ".\($0)" } ?? "")" }.joined(separator: ", ")
            let verdict = record.status == .cached ? "cached" : "runs: \(record.reason ?? "")"
            text += "  \(step.id) (\(step.kind.rawValue))" + (inputs.isEmpty ? "" : " [\(inputs)]") + " — \(verdict)\n"
            for warning in record.warnings { text += "    note: \(warning)\n" }
        }
        return text
    }

    /// A Mermaid flowchart of the DAG; with records, nodes are coloured by status.
    public static func mermaid(_ pipeline: Pipeline, _ records: [PipelineStepRecord] = []) -> String {
        func node(_ id: String) -> String { "s_" + id.replacingOccurrences(of: "-", with: "_") }
        var text = "flowchart LR\n"
        for step in pipeline.steps {
            text += "  \(node(step.id))[\"\(step.id)<br/>\(step.kind.rawValue)\"]\n"
        }
        for step in pipeline.steps {
            for input in step.inputs {
                text += "  \(node(input.step)) -->|\(input.output ?? input.name)| \(node(step.id))\n"
            }
        }
        let colours: [PipelineStepRecord.Status: String] = [
            .done: "fill:#c8e6c9,stroke:#2e7d32", .cached: "fill:#bbdefb,stroke:#1565c0", .failed: "fill:#ffcdd2,stroke:#c62828",
            .skipped: "fill:#eeeeee,stroke:#9e9e9e", .running: "fill:#fff9c4,stroke:#f9a825", .waiting: "fill:#ffffff,stroke:#9e9e9e",
        ]
        let used = Set(records.map(\.status))
        for status in [PipelineStepRecord.Status.done, .cached, .failed, .skipped, .running, .waiting] where used.contains(status) {
            text += "  classDef \(status.rawValue) \(colours[status]!)\n"
            text += "  class \(records.filter { $0.status == status }.map { node($0.id) }.joined(separator: ",")) \(status.rawValue)\n"
        }
        return text
    }
}

import ArgumentParser
import Foundation
import Polybridge
import Synchronization

/// `polybridge run PIPELINE.yaml`: a pipeline of read, R, Python, fit and write steps run as a
/// DAG, with results cached and an account of the run.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a pipeline file (YAML) of read, r, python, fit and write steps as a DAG.",
        discussion: """
            Steps start as soon as their inputs are ready; data moves between steps as Arrow in \
            memory. A step whose code (its script and the files it sources or imports), parameters \
            and inputs are unchanged is taken from the cache (.polybridge-cache beside the pipeline \
            file). R and Python steps run with the pipeline file's folder as the working directory. \
            When a step fails, the steps that need it are skipped and the others finish \
            (--fail-fast stops at once). Exit status: 0 when every step is done or cached, 1 when a \
            step failed or the pipeline file is invalid.
            """)

    @Argument(help: "The pipeline file.")
    var pipeline: String

    @Flag(name: .customLong("no-cache"), help: "Run every step; neither read nor write the cache.")
    var noCache = false

    @Option(help: "Rerun this step whatever the cache holds (repeatable).")
    var force: [String] = []

    @Flag(name: .customLong("fail-fast"), help: "Stop at the first failed step.")
    var failFast = false

    @Flag(name: .customLong("fail-on-empty"), help: "Fail a step that returns 0 rows from non-empty inputs (otherwise a warning), as fail_on_empty: true does for one step.")
    var failOnEmpty = false

    @Flag(help: "Say why each step will run or is cached, and run nothing.")
    var explain = false

    @Flag(name: .customLong("dry-run"), help: "Print the plan and a Mermaid graph of the DAG, and run nothing.")
    var dryRun = false

    @Option(help: "Write a Mermaid graph of the DAG, coloured by status after the run, to this file.")
    var graph: String?

    @Flag(help: "Print the run's account as JSON.")
    var json = false

    @OptionGroup var engineOptions: EngineOptions

    @Option(help: "Worker processes for R steps (local), or engine workers (ray, dask).")
    var workers: Int = 2

    func validate() throws {
        try OptionChecks.count(workers, "--workers")
    }

    func run() async throws {
        // Resolved before the run changes to the pipeline's folder.
        let graph = self.graph.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        // A graph that cannot be written is refused before the run, not after it.
        if let graph {
            do {
                try OutputFile.check(graph)
            } catch {
                printError("error: cannot write the graph: \(error)")
                throw ExitCode(1)
            }
        }
        let binary = CurrentExecutable.url
        // Also resolved before the change of folder.
        let nodeBinary = try engineOptions.nodeBinary()
        let options = PipelineRunOptions(useCache: !noCache, force: Set(force), failFast: failFast,
                                         workerExecutable: binary, workers: workers, failOnEmpty: failOnEmpty)
        let pipeline: Pipeline
        do {
            pipeline = try PipelineFile.load(self.pipeline)
            for id in force where pipeline.step(id) == nil {
                throw ValidationError("--force \(id): the pipeline has no step '\(id)'")
            }
            if explain || dryRun {
                let records = try await PipelineRunner.explain(pipeline, options: options)
                print(PipelineReportText.plan(pipeline, records), terminator: "")
                if dryRun { print("\n```mermaid\n" + PipelineReportText.mermaid(pipeline) + "```") }
                if let graph { try writeGraph(PipelineReportText.mermaid(pipeline, records), to: graph) }
                return
            }
        } catch let error as ValidationError {
            throw error
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        let executor: PipelineExecutor = if let engine = engineOptions.engine {
            .engine(engine, address: engineOptions.address, executable: nodeBinary, verbose: engineOptions.verbose)
        } else {
            .local
        }
        let display = LiveDisplay.forTerminal(steps: pipeline.steps.map(\.id))
        let outcome: Result<PipelineRunReport, any Error>
        do {
            outcome = .success(try await PipelineRunner.run(pipeline, options: options, on: executor,
                                                             warning: { printError("warning: \($0)") },
                                                             onRecord: { record in display?.update(record) }))
        } catch {
            outcome = .failure(error)
        }
        display?.finish()
        let report: PipelineRunReport
        do {
            report = try outcome.get()
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        if let graph { try writeGraph(PipelineReportText.mermaid(pipeline, report.steps), to: graph) }
        for record in report.steps {
            for warning in record.warnings { printError("warning: \(warning)") }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
        } else {
            print(PipelineReportText.table(report), terminator: "")
        }
        if !report.succeeded { throw ExitCode(1) }
    }

    /// Writes the Mermaid graph by the policy of every output (``OutputFile``): atomic, through
    /// a symlink, never over a device, pipe or socket.
    private func writeGraph(_ text: String, to path: String) throws {
        do {
            try OutputFile.write(Data(text.utf8), to: path)
        } catch {
            printError("error: cannot write the graph: \(error)")
            throw ExitCode(1)
        }
    }
}

/// The live per-step display on a terminal: one line per step (waiting, running with its
/// elapsed time, done, cached, failed, skipped) and done/total, redrawn in place.
final class LiveDisplay: Sendable {
    private struct State {
        var records: [String: PipelineStepRecord] = [:]
        var drawnLines = 0
        var stopped = false
    }

    private let steps: [String]
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    /// A display when standard error is a terminal, else nil.
    static func forTerminal(steps: [String]) -> LiveDisplay? {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        let display = LiveDisplay(steps: steps)
        Thread.detachNewThread { [display] in
            while display.redraw() { Thread.sleep(forTimeInterval: 0.2) }
        }
        return display
    }

    private init(steps: [String]) { self.steps = steps }

    func update(_ record: PipelineStepRecord) {
        state.withLock { $0.records[record.id] = record }
        _ = redraw()
    }

    /// Draws the final state and stops redrawing.
    func finish() {
        _ = redraw()
        state.withLock { $0.stopped = true }
    }

    /// Redraws; false once stopped.
    private func redraw() -> Bool {
        let elapsed = (ContinuousClock.now - started).seconds
        let text = state.withLock { state -> String? in
            if state.stopped { return nil }
            let width = steps.map(\.count).max() ?? 4
            var lines: [String] = []
            for id in steps {
                let record = state.records[id]
                let status = record?.status ?? .waiting
                var detail = ""
                if status == .running, let start = record?.started { detail = String(format: "%.1f s", elapsed - start) }
                if let seconds = record?.seconds, status == .done || status == .failed { detail = String(format: "%.2f s", seconds) }
                let mark = ["waiting": " ", "running": ">", "done": "✓", "cached": "=", "failed": "✗", "skipped": "-"][status.rawValue]!
                lines.append(" \(mark) \(id.padding(toLength: width, withPad: " ", startingAt: 0))  \(status.rawValue)  \(detail)")
            }
            let finished = state.records.values.filter { [.done, .cached, .failed, .skipped].contains($0.status) }.count
            lines.append(String(format: " %d/%d steps finished, %.1f s", finished, steps.count, elapsed))
            let up = state.drawnLines > 0 ? "\u{1B}[\(state.drawnLines)A" : ""
            state.drawnLines = lines.count
            return up + lines.map { "\r\u{1B}[K" + $0 }.joined(separator: "\n") + "\n"
        }
        guard let text else { return false }
        FileHandle.standardError.write(Data(text.utf8))
        return true
    }
}

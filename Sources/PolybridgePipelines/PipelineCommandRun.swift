import Foundation
import PolybridgeModels
import PolybridgeRuntime

/// Where a pipeline's R and Python steps run.
public enum PipelineExecutor: Sendable {
    /// In this process, R steps also on local worker processes.
    case local
    /// On Ray or Dask: a local cluster started and stopped around the run, or the one at
    /// `address`; `executable` is the `polybridge` binary on the nodes.
    case engine(ClusterEngine, address: String?, executable: URL, verbose: Bool)
}

extension PipelineRunner {
    /// Runs `pipeline` the way `polybridge run` does: no more workers than steps that can use
    /// them (`warning` hears when they outnumber the cores), the pipeline file's folder as the
    /// working directory (as Snakemake's workdir: relative paths in scripts and parameters mean
    /// what they mean in the file), standard output kept for the caller (what else reaches it
    /// while steps run goes to standard error), and an engine started before the steps and
    /// stopped after them. With ``InterruptHandling`` installed, Ctrl-C stops the engine (or
    /// what it has started) and then calls `whenInterrupted`.
    public static func run(_ pipeline: Pipeline, options: PipelineRunOptions, on executor: PipelineExecutor,
                           warning: @escaping @Sendable (String) -> Void = { _ in },
                           whenInterrupted: @escaping @Sendable () -> Void = {
                               FileHandle.standardError.write(Data("interrupted\n".utf8))
                               ProcessEnd.immediately(130)
                           },
                           onRecord: @escaping @Sendable (PipelineStepRecord) -> Void = { _ in }) async throws -> PipelineRunReport {
        var options = options
        let engine: ClusterEngine? = if case .engine(let engine, _, _, _) = executor { engine } else { nil }
        // Local worker processes run R steps, an engine's workers R and Python steps.
        let stepsForWorkers = pipeline.steps.filter { $0.kind == .r || (engine != nil && $0.kind == .python) }.count
        let asked = options.workers
        options.workers = WorkerCount.capped(asked: asked, work: stepsForWorkers)
        var address: String?
        if case .engine(_, let given, _, _) = executor { address = given }
        if address == nil, let text = WorkerCount.overCoresWarning(options.workers, asked: asked,
                                                                    kind: engine.map { "\($0.rawValue) workers" } ?? "worker processes",
                                                                    work: engine == nil ? "R steps" : "R and Python steps") {
            warning(text)
        }
        guard FileManager.default.changeCurrentDirectoryPath(pipeline.directory) else {
            throw PipelineError.unreadable(file: pipeline.directory, detail: "cannot change to the pipeline's folder")
        }
        let diversion = StandardOutputDiversion()
        defer { diversion.end() }
        // Ctrl-C from here on, also while the engine starts or stops: no Ray head is left behind.
        let onInterrupt = EngineOnInterrupt()
        let interrupts = engine == nil ? nil : InterruptForwarder {
            onInterrupt.stopOrAbandon()
            whenInterrupted()
        }
        defer { interrupts?.stop() }
        if case .engine(let engine, let address, let executable, let verbose) = executor {
            do {
                let started = try await EngineExecutor.start(engine: engine, executable: executable, workers: options.workers,
                                                             address: address, verbose: verbose)
                onInterrupt.started(started)
                options.engine = started
            } catch {
                // A start that failed because Ctrl-C killed the head it was starting.
                onInterrupt.holdIfInterrupted()
                throw error
            }
        }
        let outcome: Result<PipelineRunReport, any Error>
        do {
            outcome = .success(try await run(pipeline, options: options, update: onRecord))
        } catch {
            outcome = .failure(error)
        }
        onInterrupt.holdIfInterrupted()
        await options.engine?.stop()
        return try outcome.get()
    }
}

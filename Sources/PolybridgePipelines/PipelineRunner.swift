import Foundation
import PolybridgeArrow
import PolybridgeJobs
import PolybridgeModels
import PolybridgeRuntime
import Synchronization

/// What happened to one step in a run.
public struct PipelineStepRecord: Sendable, Codable, Equatable {
    /// A step's state.
    public enum Status: String, Sendable, Codable {
        case waiting, running, done, cached, failed, skipped
    }

    /// The step id.
    public var id: String
    /// Its kind (`read`, `r`, `python`, `fit`, `write`).
    public var kind: String
    /// Where it runs: `R`, `Python` or `Swift` (reading, writing and the fit's coordination).
    public var language: String
    /// Its state.
    public var status: Status
    /// Seconds from the start of the run to the step's start, once it has started.
    public var started: Double?
    /// Seconds from the start of the run to the step's end, once it has ended.
    public var finished: Double?
    /// Rows of its inputs.
    public var rowsIn: Int = 0
    /// Rows of its outputs (for a write step, rows written).
    public var rowsOut: Int = 0
    /// Why it ran (or would run): no cached result, the code changed, …; nil for a cache hit.
    public var reason: String?
    /// R's message and call stack, or Python's traceback, when it failed; why it was skipped.
    public var error: String?
    /// What the run found wrong on the way without failing the step, e.g. a damaged cache file.
    public var warnings: [String] = []

    /// Seconds it took.
    public var seconds: Double? { started.flatMap { start in finished.map { $0 - start } } }
}

/// A whole run: every step's record, in pipeline order.
public struct PipelineRunReport: Sendable, Codable {
    /// The pipeline's name.
    public var pipeline: String
    /// The steps.
    public var steps: [PipelineStepRecord]
    /// Seconds the run took.
    public var seconds: Double
    /// Whether every step is done or cached.
    public var succeeded: Bool { steps.allSatisfy { $0.status == .done || $0.status == .cached } }
}

/// How to run a pipeline.
public struct PipelineRunOptions: Sendable {
    /// Use cached results whose key matches (`--no-cache` turns it off).
    public var useCache = true
    /// Steps to rerun whatever the cache holds (`--force STEP`).
    public var force: Set<String> = []
    /// Stop at the first failure (`--fail-fast`); otherwise independent branches finish.
    public var failFast = false
    /// The `polybridge` binary, for worker processes that run R steps while this process's R
    /// is busy with another (nil: R steps take turns on this process's R).
    public var workerExecutable: URL?
    /// How many worker processes may run R steps at once.
    public var workers = 2
    /// A Ray or Dask cluster that runs the R and Python steps (nil: they run here, R steps
    /// also on local worker processes). Reading, writing and fits stay in this process.
    public var engine: EngineExecutor?
    /// Fail every step that returns 0 rows from non-empty inputs (`--fail-on-empty`), as
    /// `fail_on_empty: true` does for one step; otherwise such a step is a warning.
    public var failOnEmpty = false

    /// Options; the defaults use the cache and finish independent branches.
    public init(useCache: Bool = true, force: Set<String> = [], failFast: Bool = false,
                workerExecutable: URL? = nil, workers: Int = 2, failOnEmpty: Bool = false) {
        self.failOnEmpty = failOnEmpty
        self.useCache = useCache
        self.force = force
        self.failFast = failFast
        self.workerExecutable = workerExecutable
        self.workers = workers
    }
}

/// Runs a pipeline as a DAG: a step starts as soon as its inputs are ready, so independent
/// steps run at the same time; results move between steps as Arrow tables in memory; a step
/// whose cache key matches a stored result is not run again.
public enum PipelineRunner {
    /// Why each step would run (or that its cached result holds), without running anything.
    public static func explain(_ pipeline: Pipeline, options: PipelineRunOptions = PipelineRunOptions()) async throws -> [PipelineStepRecord] {
        let order = try await PipelineValidation.check(pipeline)
        let cache = PipelineCache(pipeline: pipeline)
        var keys: [String: String] = [:]
        var records: [String: PipelineStepRecord] = [:]
        for step in order {
            let manifest = try await PipelineCache.manifest(for: step, inputKeys: keys)
            keys[step.id] = manifest.key
            var record = PipelineStepRecord(id: step.id, kind: step.kind.rawValue, language: language(of: step), status: .waiting)
            var damaged: String?
            let upstream = step.inputs.compactMap { records[$0.step] }.first { $0.reason != nil }
            if !options.useCache {
                record.reason = "--no-cache"
            } else if options.force.contains(step.id) {
                record.reason = "--force \(step.id)"
            } else if let reason = cache.reason(step, manifest, damaged: &damaged) {
                record.reason = reason
            } else if let upstream, upstream.reason?.hasPrefix("--") == true {
                record.reason = "input step \(upstream.id) reruns"
            } else {
                record.status = .cached
            }
            record.warnings += damaged.map { [$0] } ?? []
            record.warnings += try await unresolvedSources(step)
            records[step.id] = record
        }
        return pipeline.steps.map { records[$0.id]! }
    }

    /// Runs `pipeline`; `update` sees every change of a step's record (for a live display).
    /// Returns the report whether or not steps failed (see ``PipelineRunReport/succeeded``);
    /// throws only when the pipeline is invalid.
    public static func run(_ pipeline: Pipeline, options: PipelineRunOptions = PipelineRunOptions(),
                           update: @escaping @Sendable (PipelineStepRecord) -> Void = { _ in }) async throws -> PipelineRunReport {
        let order = try await PipelineValidation.check(pipeline)
        let cache = PipelineCache(pipeline: pipeline)
        let clock = ContinuousClock()
        let start = clock.now
        func now() -> Double { (clock.now - start).seconds }
        var records: [String: PipelineStepRecord] = [:]
        for step in order {
            records[step.id] = PipelineStepRecord(id: step.id, kind: step.kind.rawValue, language: language(of: step), status: .waiting)
            update(records[step.id]!)
        }
        var keys: [String: String] = [:]
        var outputs: [String: [String: ArrowTable]] = [:]
        var stopping = false
        let lanes = RLanes(options: options)
        defer { lanes.close() }
        // A forced step's dependents rerun too: their inputs may come out different.
        var forced = options.force
        for step in order where step.inputs.contains(where: { forced.contains($0.step) }) { forced.insert(step.id) }

        await withTaskGroup(of: (String, Result<StepOutcome, any Error>).self) { group in
            var running = 0
            func startReady() {
                for step in order where records[step.id]!.status == .waiting {
                    let sources = step.inputs.map { records[$0.step]! }
                    if stopping || sources.contains(where: { $0.status == .failed || $0.status == .skipped }) {
                        records[step.id]!.status = .skipped
                        let cause = sources.first { $0.status == .failed || $0.status == .skipped }
                        records[step.id]!.error = cause.map { "input step \($0.id) \($0.status == .failed ? "failed" : "was skipped")" } ?? "the run stopped (--fail-fast)"
                        update(records[step.id]!)
                        continue
                    }
                    guard sources.allSatisfy({ $0.status == .done || $0.status == .cached }) else { continue }
                    var inputs: [String: ArrowTable] = [:]
                    var missing: String?
                    for input in step.inputs {
                        let produced = outputs[input.step] ?? [:]
                        if let table = produced[input.output ?? ""] ?? (input.output == nil && produced.count == 1 ? produced.values.first : nil) {
                            inputs[input.name] = table
                        } else {
                            missing = input.output.map { "step \(input.step) has no output '\($0)' (it has \(produced.keys.sorted().map { $0.isEmpty ? "one unnamed output" : $0 }.joined(separator: ", ")))" }
                                ?? "step \(input.step) has \(produced.count) outputs (\(produced.keys.sorted().joined(separator: ", "))): name one, as \(input.step).NAME"
                        }
                    }
                    records[step.id]!.status = .running
                    records[step.id]!.started = now()
                    records[step.id]!.rowsIn = inputs.values.reduce(0) { $0 + $1.rowCount }
                    update(records[step.id]!)
                    let inputKeys = keys
                    let rowsIn = records[step.id]!.rowsIn
                    let force = !options.useCache || forced.contains(step.id)
                    running += 1
                    group.addTask {
                        do {
                            if let missing { throw PipelineError.stepFailed(step: step.id, message: missing) }
                            let manifest = try await PipelineCache.manifest(for: step, inputKeys: inputKeys)
                            var damaged: String?
                            let reason = force ? (options.useCache ? "--force" : "--no-cache") : cache.reason(step, manifest, damaged: &damaged)
                            var warnings = damaged.map { [$0] } ?? []
                            if reason == nil, let stored = cache.stored(step.id) {
                                var loaded: [String: ArrowTable]?
                                do {
                                    loaded = try await cache.load(step.id, stored)
                                } catch {
                                    warnings.append("the cache entry of step \(step.id) cannot be read (\(PipelineRuntime.message(of: error))); the step runs again")
                                }
                                if let loaded {
                                    let empty = try emptyResult(of: step, rowsIn: rowsIn, outputs: loaded, options: options)
                                    return (step.id, .success(StepOutcome(outputs: loaded, manifest: stored, cached: true, reason: nil,
                                                                          warnings: empty.map { [$0] } ?? [])))
                                }
                            }
                            let produced: [String: ArrowTable]
                            if let engine = options.engine, step.kind == .r || step.kind == .python {
                                produced = try await PipelineWorker.run(step, inputs: inputs, on: engine)
                            } else if step.kind == .r {
                                produced = try await lanes.run(step, inputs: inputs)
                            } else {
                                produced = try await PipelineSteps.run(step, inputs: inputs)
                            }
                            // Checked before the result is cached or handed on: a failing empty
                            // result never reaches a write step.
                            if let empty = try emptyResult(of: step, rowsIn: rowsIn, outputs: produced, options: options) {
                                warnings.append(empty)
                            }
                            if options.useCache {
                                try await cache.store(step.id, manifest, outputs: produced, written: step.kind == .write ? step.path : nil)
                            }
                            return (step.id, .success(StepOutcome(outputs: produced, manifest: manifest, cached: false,
                                                                  reason: reason ?? "the cache entry cannot be read", warnings: warnings)))
                        } catch {
                            return (step.id, .failure(error))
                        }
                    }
                }
            }
            startReady()
            while running > 0, let (id, result) = await group.next() {
                running -= 1
                records[id]!.finished = now()
                switch result {
                case .success(let value):
                    outputs[id] = value.outputs
                    keys[id] = value.manifest.key
                    records[id]!.status = value.cached ? .cached : .done
                    records[id]!.reason = value.reason
                    records[id]!.warnings += value.warnings
                    let step = pipeline.step(id)!
                    records[id]!.rowsOut = step.kind == .write ? records[id]!.rowsIn : value.outputs.values.reduce(0) { $0 + $1.rowCount }
                case .failure(let error):
                    records[id]!.status = .failed
                    records[id]!.error = describe(error, step: pipeline.step(id)!)
                    if options.failFast {
                        stopping = true
                        group.cancelAll()
                    }
                }
                update(records[id]!)
                startReady()
            }
        }
        return PipelineRunReport(pipeline: pipeline.name, steps: pipeline.steps.map { records[$0.id]! }, seconds: now())
    }

    /// For a step that made a table with 0 rows from inputs with rows: the warning naming it,
    /// or, when `fail_on_empty` or `--fail-on-empty` asks for it, the step's failure.
    static func emptyResult(of step: PipelineStep, rowsIn: Int, outputs: [String: ArrowTable],
                            options: PipelineRunOptions) throws -> String? {
        guard rowsIn > 0, [.r, .python, .fit].contains(step.kind) else { return nil }
        let empty = outputs.filter { $0.value.rowCount == 0 }.keys.sorted()
        guard !empty.isEmpty else { return nil }
        let what = empty == [""] ? "returned 0 rows" : "returned 0 rows in output \(empty.map { "'\($0)'" }.joined(separator: ", "))"
        let message = "step \(step.id) \(what) from \(rowsIn) input rows"
        if step.failOnEmpty || options.failOnEmpty {
            throw PipelineError.stepFailed(step: step.id, message: message + " (\(step.failOnEmpty ? "fail_on_empty: true" : "--fail-on-empty"))")
        }
        return message
    }

    /// What running (or loading) one step gave.
    private struct StepOutcome: Sendable {
        var outputs: [String: ArrowTable]
        var manifest: PipelineCache.Manifest
        var cached: Bool
        var reason: String?
        var warnings: [String]
    }

    /// For an R step's script: the `source()` calls whose path is not a literal, which the
    /// cache key cannot follow (edits to the files they load do not make the step run again).
    static func unresolvedSources(_ step: PipelineStep) async throws -> [String] {
        guard step.kind == .r, let script = step.script else { return [] }
        return PipelineRuntime.strings(try await PipelineRuntime.callR("unresolved_sources", [.character([script])])).map { call in
            "\(call) cannot be resolved before the step runs, so edits to the file it loads do not make step \(step.id) run again; give source() a literal path"
        }
    }

    /// Where a step runs, for the report.
    static func language(of step: PipelineStep) -> String {
        switch step.kind {
        case .r, .fit: "R"
        case .python: "Python"
        case .read, .write: "Swift"
        }
    }

    /// A failed step's error: the step, its file and function, and R's message and call stack
    /// or Python's traceback.
    static func describe(_ error: any Error, step: PipelineStep) -> String {
        if let error = error as? PipelineError, case .stepFailed(_, let message) = error { return message }
        let place = [step.script.map { URL(fileURLWithPath: $0).lastPathComponent }, step.function.map { "function \($0)" }]
            .compactMap { $0 }.joined(separator: ", ")
        let language = self.language(of: step)
        return (place.isEmpty ? "" : "\(place): ") + (language == "Swift" ? "" : "\(language) error: ") + PipelineRuntime.message(of: error)
    }
}

/// Where R steps run: this process's R when it is free, else a worker process (R is one thread
/// per process, so two R steps at once need two processes). Inputs and outputs of a worker's
/// step are Arrow IPC files in shared memory.
final class RLanes: @unchecked Sendable {
    private let busy = Mutex(false)
    private let pool: ProcessPoolExecutor?
    private let directory: String?

    init(options: PipelineRunOptions) {
        if let executable = options.workerExecutable {
            pool = ProcessPoolExecutor(executable: executable, workers: max(1, options.workers))
            let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : ProcessFolders.temporaryBase
            directory = try? ProcessFolders.makeOwn(in: base, prefix: "polybridge-")
            // Gone also when Ctrl-C, SIGTERM or a closed output ends the run: it can hold
            // hundreds of MB of the pipeline's data in memory.
            if let directory { ProcessEnd.removeAtEnd(directory) }
        } else {
            pool = nil
            directory = nil
        }
    }

    func run(_ step: PipelineStep, inputs: [String: ArrowTable]) async throws -> [String: ArrowTable] {
        let claimed = busy.withLock { taken -> Bool in
            if taken { return false }
            taken = true
            return true
        }
        if claimed || pool == nil || directory == nil {
            defer { if claimed { busy.withLock { $0 = false } } }
            return try await PipelineSteps.run(step, inputs: inputs)
        }
        do {
            return try await PipelineWorker.run(step, inputs: inputs, directory: directory!, pool: pool!)
        } catch let error as JobError {
            // The worker's R error, reported as this process's R would report it.
            throw RError.evaluation(message: error.message, call: nil, output: "")
        }
    }

    /// Ends the workers and removes the shared-memory files.
    func close() {
        pool?.shutdown()
        if let directory {
            try? FileManager.default.removeItem(atPath: directory)
            ProcessEnd.forget(directory)
        }
    }
}

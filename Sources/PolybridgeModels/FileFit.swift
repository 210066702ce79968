import Foundation
import PolybridgeFiles
import PolybridgeJobs
import PolybridgeRuntime

/// Where a fit on a data file runs.
public enum FileFitExecutor: Sendable {
    /// In this process: the whole data in one `lm`, or its chunks one after another.
    case inProcess
    /// On `workers` warm worker processes of this machine (`executable worker`), each reading
    /// its chunks' rows from the file.
    case pool(workers: Int, executable: URL)
    /// On Ray or Dask: a local cluster started and stopped around the fit, or the one at
    /// `address`; `executable` is the `polybridge` binary on the nodes.
    case engine(ClusterEngine, workers: Int, address: String?, executable: URL, verbose: Bool)
}

/// How a fit on a data file is split and run (``LinearModel/fit(file:_:options:)``).
public struct FileFitOptions: Sendable {
    /// Split the rows into this many chunks.
    public var chunks: Int?
    /// Split the rows into chunks of this many rows.
    public var chunkRows: Int?
    /// How the chunks merge.
    public var combine: LinearModelCombine = .exact
    /// Where the fit runs.
    public var executor: FileFitExecutor = .inProcess
    /// Fail a chunk (or a worker's start) that takes longer.
    public var timeout: Duration?
    /// Where a chunked glm's chunks keep their state between rounds (lm keeps none).
    public var chunkState: ChunkStatePlacement = .automatic
    /// Called after each chunk task completes.
    public var progress: (@Sendable (LinearModelProgress) -> Void)?
    /// Called with each warning (more workers than cores).
    public var warning: (@Sendable (String) -> Void)?
    /// What Ctrl-C does once the workers or the engine are stopped (when the program installed
    /// ``InterruptHandling``): by default it says "interrupted" on standard error and ends the
    /// process with status 130.
    public var whenInterrupted: @Sendable () -> Void = {
        FileHandle.standardError.write(Data("interrupted\n".utf8))
        ProcessEnd.immediately(130)
    }

    /// Whole-data options in this process.
    public init() {}
}

/// How long a fit on workers took: the workers' start, the fit itself, and an engine's stop.
public struct FileFitTiming: Sendable, Equatable {
    /// Seconds until the workers were ready.
    public var workersReady: Double
    /// Seconds until this process was ready without them: its R and Python up, the chunks
    /// counted and the formula checked (nil on an engine, which starts after that). What local
    /// workers add to a fit's wall time is `workersReady` beyond this.
    public var coordinatorReady: Double? = nil
    /// Seconds of the fit once they were.
    public var fit: Double
    /// The chunks fitted.
    public var chunks: Int
    /// Seconds the engine took to stop (Ray, Dask).
    public var engineStopped: Double?
}

extension LinearModel {
    /// The fewest rows of a chunk made of consecutive row groups (unless that leaves a worker
    /// without a chunk): each chunk costs a task, a read and a QR, worth it only for many rows.
    public static let rowsPerGroupedChunk = 250_000

    /// Fits `specification` on the data file at `path` (CSV/TSV, Feather, Parquet or RDS) as
    /// `options` say: whole, or in chunks in this process, on a pool of worker processes or on
    /// Ray or Dask. Workers and engines are started here and stopped before it returns, also
    /// when it throws; with ``InterruptHandling`` installed, Ctrl-C stops them first and then
    /// does ``FileFitOptions/whenInterrupted``. Returns the fit and, on workers, its timing.
    public static func fit(file path: String, _ specification: LinearModelSpecification,
                           options: FileFitOptions) async throws -> (fit: LinearModelFit, timing: FileFitTiming?) {
        let label = URL(fileURLWithPath: path).lastPathComponent
        switch options.executor {
        case .inProcess:
            let table = try await DataFiles.readTable(path)
            if options.chunks == nil && options.chunkRows == nil {
                return (try await LinearModel.fit(table, specification, label: label), nil)
            }
            let ranges = if let chunks = options.chunks { chunkRanges(rowCount: table.rowCount, count: chunks) }
                else { chunkRanges(rowCount: table.rowCount, rowsPerChunk: options.chunkRows!) }
            return (try await fitChunked(.table(table), rowCount: table.rowCount, chunks: ranges, specification,
                                         combine: options.combine, label: label, progress: options.progress), nil)
        case .pool, .engine:
            let (fit, timing) = try await onWorkers(path, options: options, check: { _ = try await checkFormula(specification.formula) }) {
                identity, rows, ranges, executor in
                try await fitChunked(.file(path: path, identity: identity), rowCount: rows, chunks: ranges, specification,
                                     combine: options.combine, executor: executor, label: label, progress: options.progress)
            }
            return (fit, timing)
        }
    }

    /// What a fit on workers runs on: a pool of worker processes or a Ray or Dask cluster.
    typealias WorkerExecutor = ChunkExecutor & JobExecutor

    /// Runs `fit` on the chunks of the file at `path` on the workers `options` name (a pool or
    /// an engine, started here and stopped before this returns, also when it throws), after
    /// `check` (the model's checks in this process, run while the workers start).
    static func onWorkers<Fit: Sendable>(_ path: String, options: FileFitOptions, check: @escaping @Sendable () async throws -> Void,
                                         fit: (FileIdentity?, Int, [Range<Int>], any WorkerExecutor) async throws -> Fit)
        async throws -> (Fit, FileFitTiming) {
        switch options.executor {
        case .pool(let workers, let executable):
            return try await onPool(path, workers: workers, executable: executable, options: options, check: check, fit: fit)
        case .engine(let engine, let workers, let address, let executable, let verbose):
            return try await onEngine(path, engine: engine, workers: workers, address: address, executable: executable, verbose: verbose,
                                      options: options, check: check, fit: fit)
        case .inProcess:
            preconditionFailure("onWorkers runs on a pool or an engine")
        }
    }

    private static func onPool<Fit: Sendable>(_ path: String, workers: Int, executable: URL, options: FileFitOptions,
                                              check: @escaping @Sendable () async throws -> Void,
                                              fit: (FileIdentity?, Int, [Range<Int>], any WorkerExecutor) async throws -> Fit)
        async throws -> (Fit, FileFitTiming) {
        let clock = ContinuousClock()
        let started = clock.now
        // No more workers than chunks: with `chunks` the bound is known now, else once the
        // file's row groups are read (the pool is then limited).
        let pool = ProcessPoolExecutor(executable: executable, workers: WorkerCount.capped(asked: workers, work: options.chunks ?? workers),
                                       timeout: options.timeout)
        defer { pool.shutdown() }
        // Ctrl-C: no worker may outlive the program.
        let interrupts = InterruptForwarder {
            pool.shutdown()
            options.whenInterrupted()
        }
        defer { interrupts.stop() }
        // The workers start their R and Python while this process starts its own and counts
        // the chunks: as many as there are cores at first, the rest (up to the chunks) after.
        async let warming: Void = pool.warmUp(count: ProcessInfo.processInfo.activeProcessorCount)
        let (rows, ranges, identity) = try await fileChunks(path, options: options, workers: workers)
        pool.limit(to: ranges.count)
        if let warning = WorkerCount.overCoresWarning(pool.size, asked: workers, kind: "worker processes", work: "chunks") {
            options.warning?(warning)
        }
        try await check()
        let coordinatorReady = clock.now
        try await warming
        try await pool.warmUp()
        let ready = clock.now
        let fitted = try await fit(identity, rows, ranges, pool)
        return (fitted, FileFitTiming(workersReady: (ready - started).seconds, coordinatorReady: (coordinatorReady - started).seconds,
                                      fit: (clock.now - ready).seconds, chunks: ranges.count))
    }

    private static func onEngine<Fit: Sendable>(_ path: String, engine: ClusterEngine, workers asked: Int, address: String?, executable: URL,
                                                verbose: Bool, options: FileFitOptions, check: @escaping @Sendable () async throws -> Void,
                                                fit: (FileIdentity?, Int, [Range<Int>], any WorkerExecutor) async throws -> Fit)
        async throws -> (Fit, FileFitTiming) {
        let (rows, ranges, identity) = try await fileChunks(path, options: options, workers: asked)
        try await check()
        // No more engine workers than chunks; a local cluster's workers share this machine's cores.
        let workers = WorkerCount.capped(asked: asked, work: ranges.count)
        if address == nil, let warning = WorkerCount.overCoresWarning(workers, asked: asked, kind: "\(engine.rawValue) workers", work: "chunks") {
            options.warning?(warning)
        }
        // What the engine prints (Ray's notes about retried tasks, say) goes to standard error:
        // standard output is for the caller's result.
        let diversion = StandardOutputDiversion()
        defer { diversion.end() }
        let clock = ContinuousClock()
        // Ctrl-C from here on, also while the engine starts or stops: no Ray head is left behind.
        let onInterrupt = EngineOnInterrupt()
        let interrupts = InterruptForwarder {
            onInterrupt.stopOrAbandon()
            options.whenInterrupted()
        }
        defer { interrupts.stop() }
        let executor: EngineExecutor
        do {
            executor = try await EngineExecutor.start(engine: engine, executable: executable, workers: workers, address: address,
                                                      timeout: options.timeout, verbose: verbose)
        } catch {
            // A start that failed because Ctrl-C killed the head it was starting.
            onInterrupt.holdIfInterrupted()
            throw error
        }
        onInterrupt.started(executor)
        let ready = clock.now
        let fitted: Fit
        do {
            fitted = try await fit(identity, rows, ranges, executor)
        } catch {
            onInterrupt.holdIfInterrupted()
            executor.shutdown()
            throw error
        }
        let done = clock.now
        executor.shutdown()
        return (fitted, FileFitTiming(workersReady: executor.startupSeconds, coordinatorReady: nil, fit: (done - ready).seconds, chunks: ranges.count,
                                      engineStopped: (clock.now - done).seconds))
    }

    /// The file's row count and chunks for workers that read the file themselves: the count
    /// from the metadata of a Parquet or Arrow IPC file (no scan), and without `chunks` or
    /// `chunkRows` chunks of whole consecutive row groups (at least ``rowsPerGroupedChunk``
    /// rows, and one per worker), so no row is read twice. The file's identity is pinned first:
    /// every chunk's read checks it, so the fit sees one version of the file.
    static func fileChunks(_ path: String, options: FileFitOptions,
                                   workers: Int) async throws -> (rows: Int, ranges: [Range<Int>], identity: FileIdentity?) {
        let identity = path.contains("://") ? nil : try FileIdentity.pin(path)
        let groups = try await DataFiles.rowGroups(path)
        let rows = if let groups { groups.reduce(0, +) } else { try await DataFiles.inspect(path).rows }
        let ranges = if let chunks = options.chunks { chunkRanges(rowCount: rows, count: chunks) }
            else if let chunkRows = options.chunkRows { chunkRanges(rowCount: rows, rowsPerChunk: chunkRows) }
            else if let groups, case let grouped = chunkRanges(rowGroups: groups, minimumRows: rowsPerGroupedChunk, atLeast: workers),
                    grouped.count >= workers { grouped }
            else { chunkRanges(rowCount: rows, count: workers) }
        return (rows, ranges, identity)
    }
}

extension GeneralizedLinearModel {
    /// Fits `specification` with R's glm on the data file at `path` as `options` say: whole in
    /// this process, or in chunks (``fitChunked(file:identity:rowCount:chunks:_:executor:chunkState:label:progress:)``)
    /// in this process, on a pool of worker processes or on Ray or Dask, started here and stopped
    /// before it returns. Returns the fit and, on workers, its timing. `options.combine` must be exact.
    public static func fit(file path: String, _ specification: GeneralizedLinearModelSpecification,
                           options: FileFitOptions) async throws -> (fit: GeneralizedLinearModelFit, timing: FileFitTiming?) {
        let label = URL(fileURLWithPath: path).lastPathComponent
        guard options.combine == .exact else {
            throw LinearModelError.glmFailed(message: "glm in chunks has only the exact combine (the average of chunk fits is an lm option)")
        }
        try checkControl(specification)
        switch options.executor {
        case .inProcess:
            if options.chunks == nil && options.chunkRows == nil {
                return (try await fit(try await DataFiles.readTable(path), specification, label: label), nil)
            }
            let (rows, ranges, identity) = try await LinearModel.fileChunks(path, options: options, workers: 1)
            let executor = InProcessJobExecutor(registry: JobRegistry([GeneralizedLinearModelChunkJob.self]))
            return (try await fitChunked(file: path, identity: identity, rowCount: rows, chunks: ranges, specification, executor: executor,
                                         chunkState: options.chunkState, label: label, progress: options.progress), nil)
        case .pool, .engine:
            let (fit, timing) = try await LinearModel.onWorkers(path, options: options, check: {
                try await checkFormula(specification.formula)
                try await checkFamily(specification.family, link: specification.link)
            }) { identity, rows, ranges, executor in
                try await fitChunked(file: path, identity: identity, rowCount: rows, chunks: ranges, specification, executor: executor,
                                     chunkState: options.chunkState, label: label, progress: options.progress)
            }
            return (fit, timing)
        }
    }
}

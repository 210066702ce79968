import ArgumentParser
import Foundation
import Polybridge

/// `polybridge fit`: R's `lm` on a data file, whole or in chunks merged exactly.
struct Fit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit R's lm on a data file, whole or in chunks whose exact combine equals lm on all rows.",
        discussion: """
            The data file is CSV/TSV, Feather, Parquet or RDS. With --chunks or --chunk-rows the rows \
            are split into chunks; the exact combine (default) stacks each chunk's QR factor and gives \
            lm's answer on all rows; --combine average is the common approximate recipe, labelled so. \
            Chunks run in this process, or with --workers N on N warm worker processes that read \
            their rows from the file (a worker killed mid-chunk is replaced and the chunk re-run; \
            workers end with this process). Output reads like R's summary.lm; --json prints the \
            fit as JSON; --plot writes a coefficient plot (PNG). A progress bar shows on stderr when it \
            is a terminal. Errors exit 1.
            """)

    @Option(help: "The data file (CSV, TSV, Feather, Parquet or RDS).")
    var data: String

    @Option(help: "The model formula, e.g. 'y ~ x1 + factor(g)'.")
    var formula: String

    @Option(help: "The column of case weights.")
    var weights: String?

    @Option(help: "The column of the offset.")
    var offset: String?

    @Option(name: .customLong("row-wise"), parsing: .singleValue,
            help: "A function you know computes each row from that row alone (e.g. nchar), accepted in a chunked fit's formula besides the built-in ones; repeatable.")
    var rowWise: [String] = []

    @Option(help: "Split the rows into this many chunks.")
    var chunks: Int?

    @Option(name: .customLong("chunk-rows"), help: "Split the rows into chunks of this many rows.")
    var chunkRows: Int?

    @Option(help: "Fit the chunks on this many warm worker processes (each reads its rows from the file); in this process when not given.")
    var workers: Int?

    @Option(help: "Where the chunks run with --workers: local (worker processes of this machine), ray or dask.")
    var executor: ExecutorKind = .local

    @Option(help: "The address of an existing Ray or Dask cluster (without it a local cluster is started and stopped).")
    var address: String?

    @Option(name: .customLong("worker-binary"), help: "The polybridge executable on the engine's nodes (default: this one's path).")
    var workerBinary: String?

    @Option(help: "Fail a chunk (or a worker's start) that takes longer than this many seconds: above 0, at most 1000000 (with --workers).")
    var timeout: Double?

    @Option(help: "How chunks merge: exact (equals lm on all rows) or average (approximate).")
    var combine: LinearModelCombine = .exact

    @Flag(help: "Print the fit as JSON.")
    var json = false

    @Option(help: "Write a coefficient plot with 95% confidence intervals to this PNG file.")
    var plot: String?

    @Flag(help: "Print on stderr how long the workers took to start and the fit took (with --workers).")
    var timing = false

    @Flag(help: "Let the engine (--executor ray) print its own INFO and WARNING log lines.")
    var verbose = false

    func validate() throws {
        if chunks != nil && chunkRows != nil { throw ValidationError("give --chunks or --chunk-rows, not both") }
        if let chunks { try OptionChecks.count(chunks, "--chunks") }
        if let chunkRows { try OptionChecks.count(chunkRows, "--chunk-rows") }
        if let workers { try OptionChecks.count(workers, "--workers") }
        if let timeout { try OptionChecks.seconds(timeout, "--timeout") }
        if timeout != nil && workers == nil { throw ValidationError("--timeout applies to --workers") }
        if executor != .local && workers == nil { throw ValidationError("--executor \(executor.rawValue) needs --workers N (the engine workers)") }
        if address != nil && executor == .local { throw ValidationError("--address applies to --executor ray or dask") }
        if workerBinary != nil && executor == .local { throw ValidationError("--worker-binary applies to --executor ray or dask") }
        if combine == .average && chunks == nil && chunkRows == nil {
            throw ValidationError("--combine average needs --chunks or --chunk-rows")
        }
    }

    func run() async throws {
        // A plot that cannot be written is refused before the fit, not after it.
        if let plot {
            do {
                try OutputFile.check(plot)
            } catch {
                printError("error: cannot write the plot: \(error)")
                throw ExitCode(1)
            }
        }
        try OptionChecks.checkWorkerBinary(workerBinary.map { URL(fileURLWithPath: $0).standardizedFileURL.path }, address: address)
        let specification = LinearModelSpecification(formula: formula, weights: weights, offset: offset, rowWiseFunctions: rowWise)
        let label = URL(fileURLWithPath: data).lastPathComponent
        let fit: LinearModelFit
        let bar = ProgressBar.forTerminal()
        let log = ProgressLog.forNonTerminal(whole: chunks == nil && chunkRows == nil && workers == nil
                                             ? "lm on the whole of \(label)" : "reading \(label) and starting the chunks")
        defer { log?.finish() }
        var progress: (@Sendable (LinearModelProgress) -> Void)?
        if bar != nil || log != nil { progress = { @Sendable update in bar?.update(update); log?.update(update) } }
        do {
            if let workers, let engine = ClusterEngine(rawValue: executor.rawValue) {
                fit = try await fitOnEngine(engine, binary: workerBinary.map { URL(fileURLWithPath: $0).standardizedFileURL }
                                                ?? CurrentExecutable.url,
                                            workers: workers, specification: specification, label: label, progress: progress)
                bar?.finish()
            } else if let workers {
                let clock = ContinuousClock()
                let started = clock.now
                let binary = CurrentExecutable.url
                // No more workers than chunks: with --chunks the bound is known now, else once
                // the file's row groups are read (the pool is then limited).
                let pool = ProcessPoolExecutor(executable: binary, workers: WorkerCount.capped(asked: workers, work: chunks ?? workers),
                                               timeout: timeout.map { .seconds($0) })
                defer { pool.shutdown() }
                // Ctrl-C: no worker may outlive the command.
                let interrupts = InterruptForwarder {
                    pool.shutdown()
                    printError("interrupted")
                    ProcessEnd.immediately(130)
                }
                defer { interrupts.stop() }
                // The workers start their R and Python while this process starts its own and
                // counts the chunks: as many as there are cores at first, the rest (up to the
                // chunks) after.
                async let warming: Void = pool.warmUp(count: ProcessInfo.processInfo.activeProcessorCount)
                let (rows, ranges, identity) = try await fileChunks(workers: workers)
                pool.limit(to: ranges.count)
                WorkerCount.warnIfOverCores(pool.size, asked: workers, kind: "worker processes", work: "chunks")
                _ = try await LinearModel.checkFormula(formula)
                try await warming
                try await pool.warmUp()
                let ready = clock.now
                defer {
                    if timing {
                        printError(String(format: "timing: workers ready %.3f s, fit %.3f s (%d chunks)", (ready - started).seconds,
                                          (clock.now - ready).seconds, ranges.count))
                    }
                }
                fit = try await LinearModel.fitChunked(.file(path: data, identity: identity), rowCount: rows,
                                                       chunks: ranges,
                                                       specification, combine: combine, executor: pool, label: label,
                                                       progress: progress)
                bar?.finish()
            } else {
                let table = try await DataFiles.readTable(data)
                if chunks == nil && chunkRows == nil {
                    fit = try await LinearModel.fit(table, specification, label: label)
                } else {
                    let ranges = if let chunks { LinearModel.chunkRanges(rowCount: table.rowCount, count: chunks) }
                        else { LinearModel.chunkRanges(rowCount: table.rowCount, rowsPerChunk: chunkRows!) }
                    fit = try await LinearModel.fitChunked(.table(table), rowCount: table.rowCount, chunks: ranges,
                                                           specification, combine: combine, label: label, progress: progress)
                    bar?.finish()
                }
            }
        } catch {
            bar?.finish()
            printError("error: \(error)")
            throw ExitCode(1)
        }
        try await report(fit)
    }

    /// The chunks on Ray or Dask; the engine starts (or connects) first and stops at the end.
    private func fitOnEngine(_ engine: ClusterEngine, binary: URL, workers: Int, specification: LinearModelSpecification,
                             label: String, progress: (@Sendable (LinearModelProgress) -> Void)?) async throws -> LinearModelFit {
        let (rows, ranges, identity) = try await fileChunks(workers: workers)
        _ = try await LinearModel.checkFormula(formula)
        // No more engine workers than chunks; a local cluster's workers share this machine's cores.
        let workers = WorkerCount.capped(asked: workers, work: ranges.count)
        if address == nil { WorkerCount.warnIfOverCores(workers, asked: self.workers ?? workers, kind: "\(engine.rawValue) workers", work: "chunks") }
        // What the engine prints (Ray's notes about retried tasks, say) goes to standard error:
        // standard output is for the fit, printed after the engine has stopped.
        let diversion = StandardOutputDiversion()
        defer { diversion.end() }
        let clock = ContinuousClock()
        // Ctrl-C from here on, also while the engine starts or stops: no Ray head is left behind.
        let onInterrupt = EngineOnInterrupt()
        let interrupts = InterruptForwarder {
            onInterrupt.stopOrAbandon()
            printError("interrupted")
            ProcessEnd.immediately(130)
        }
        defer { interrupts.stop() }
        let engineExecutor: EngineExecutor
        do {
            engineExecutor = try await EngineExecutor.start(engine: engine, executable: binary, workers: workers, address: address,
                                                            timeout: timeout.map { .seconds($0) }, verbose: verbose)
        } catch {
            // A start that failed because Ctrl-C killed the head it was starting.
            onInterrupt.holdIfInterrupted()
            throw error
        }
        onInterrupt.started(engineExecutor)
        defer {
            let stopping = clock.now
            engineExecutor.shutdown()
            if timing {
                printError(String(format: "timing: engine stopped in %.3f s", (clock.now - stopping).seconds))
            }
        }
        let ready = clock.now
        let fit: LinearModelFit
        do {
            fit = try await LinearModel.fitChunked(.file(path: data, identity: identity), rowCount: rows, chunks: ranges, specification,
                                                   combine: combine, executor: engineExecutor, label: label, progress: progress)
        } catch {
            onInterrupt.holdIfInterrupted()
            throw error
        }
        if timing {
            printError(String(format: "timing: workers ready %.3f s, fit %.3f s (%d chunks)", engineExecutor.startupSeconds,
                              (clock.now - ready).seconds, ranges.count))
        }
        return fit
    }

    /// The fewest rows of a chunk made of consecutive row groups (unless that leaves a worker
    /// without a chunk): each chunk costs a task, a read and a QR, worth it only for many rows.
    static let rowsPerGroupedChunk = 250_000

    /// The file's row count and chunks for worker processes that read the file themselves: the
    /// count from the metadata of a Parquet or Arrow IPC file (no scan), and without --chunks or
    /// --chunk-rows chunks of whole consecutive row groups (at least rowsPerGroupedChunk rows, and
    /// one per worker), so no row is read twice. The file's identity is
    /// pinned first: every chunk's read checks it, so the fit sees one version of the file.
    private func fileChunks(workers: Int) async throws -> (rows: Int, ranges: [Range<Int>], identity: FileIdentity?) {
        let identity = data.contains("://") ? nil : try FileIdentity.pin(data)
        let groups = try await DataFiles.rowGroups(data)
        let rows = if let groups { groups.reduce(0, +) } else { try await DataFiles.inspect(data).rows }
        let ranges = if let chunks { LinearModel.chunkRanges(rowCount: rows, count: chunks) }
            else if let chunkRows { LinearModel.chunkRanges(rowCount: rows, rowsPerChunk: chunkRows) }
            else if let groups, case let grouped = LinearModel.chunkRanges(rowGroups: groups, minimumRows: Self.rowsPerGroupedChunk, atLeast: workers),
                    grouped.count >= workers { grouped }
            else { LinearModel.chunkRanges(rowCount: rows, count: workers) }
        return (rows, ranges, identity)
    }

    /// Prints the fit (and writes the plot).
    private func report(_ fit: LinearModelFit) async throws {
        if let plot {
            do {
                try await LinearModel.plotCoefficients(fit, to: plot)
            } catch {
                printError("error: \(error)")
                throw ExitCode(1)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            // The average combine has no p-values: NaN, written as R would print it.
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Inf", negativeInfinity: "-Inf", nan: "NaN")
            FileHandle.standardOutput.write(try encoder.encode(fit) + Data("\n".utf8))
        } else {
            print(fit.summary)
        }
    }
}

extension LinearModelCombine: ExpressibleByArgument {}

/// Where `fit --workers` runs its chunks.
enum ExecutorKind: String, ExpressibleByArgument, CaseIterable {
    case local, ray, dask
}

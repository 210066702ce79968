import ArgumentParser
import Foundation
import Polybridge
import Synchronization

/// `polybridge fit`: R's `lm` or (with `--family`) R's `glm` on a data file, whole or in chunks
/// whose answer is R's on all rows.
struct Fit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit R's lm, or R's glm (--family), on a data file: whole, or in chunks whose exact answer equals R's on all rows.",
        discussion: """
            The data file is CSV/TSV, Feather, Parquet or RDS. With --chunks or --chunk-rows the rows \
            are split into chunks; the exact combine (default) stacks each chunk's QR factor and gives \
            lm's answer on all rows; --combine average is the common approximate recipe, labelled so. \
            Chunks run in this process, or with --workers N on N warm worker processes that read \
            their rows from the file (a worker killed mid-chunk is replaced and the chunk re-run; \
            workers end with this process). Output reads like R's summary.lm; --json prints the \
            fit as JSON; --plot writes a coefficient plot (PNG). A progress bar shows on stderr when it \
            is a terminal. With --family (and --link, --epsilon, --maxit) it fits R's glm and prints \
            summary.glm; in chunks, each chunk is read once and kept on its worker, and each IRLS \
            iteration sends the coefficients to the chunks and merges their QR factors, as glm.fit \
            iterates (a worker lost between iterations has its chunk rebuilt on another). Errors exit 1.
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

    @OptionGroup var engineOptions: EngineOptions

    @Option(help: "Fail a chunk (or a worker's start) that takes longer than this many seconds: above 0, at most 1000000 (with --workers).")
    var timeout: Double?

    @Option(help: "How chunks merge: exact (equals lm on all rows) or average (approximate).")
    var combine: LinearModelCombine = .exact

    @Option(help: "Fit R's glm with this family instead of lm: binomial, quasibinomial, poisson, quasipoisson, Gamma, gaussian or inverse.gaussian, or R's spelling with a link ('Gamma(link = \"log\")').")
    var family: String?

    @Option(help: "The glm link (logit, probit, cauchit, cloglog, log, identity, inverse, sqrt, 1/mu^2); the family's own by default.")
    var link: String?

    @Option(help: "glm.control's convergence tolerance (with --family; default 1e-8).")
    var epsilon: Double?

    @Option(help: "glm.control's most iterations (with --family; default 25).")
    var maxit: Int?

    @Option(name: .customLong("chunk-state"),
            help: "Where a chunked glm's chunks keep their state between iterations: memory, disk (a file of each worker's in TMPDIR, read once per iteration) or auto (disk when all chunks' state would take over half the memory limit; the default).")
    var chunkState: ChunkStatePlacement?

    @Option(help: "Fit one model per group of these columns (comma-separated: --by store,region), each equal to R's fit on the group's rows; a group that cannot be fitted keeps R's message and the others go on.")
    var by: String?

    @Option(help: "With --by: write the coefficients table (the by columns, term, estimate, std_error, statistic, p_value) to this Parquet, Feather or CSV file.")
    var out: String?

    @Option(name: .customLong("groups-out"), help: "With --by: write the groups table (the by columns, rows used and dropped, the fit's statistics, error, warning) to this Parquet, Feather or CSV file.")
    var groupsOut: String?

    @Flag(name: .customLong("fail-on-group-error"), help: "With --by: exit 1 when a group could not be fitted (otherwise 0, with the count on stderr).")
    var failOnGroupError = false

    @Flag(help: "Print the fit as JSON.")
    var json = false

    @Option(help: "Write a coefficient plot with 95% confidence intervals to this PNG file.")
    var plot: String?

    @Option(help: "Save the fit for prediction to this RDS file (an R list of class polybridge_fit; see docs/fitting.md): formulas of bare columns and their products.")
    var save: String?

    @Flag(help: "Print on stderr how long the workers took to start and the fit took (with --workers).")
    var timing = false

    func validate() throws {
        if chunks != nil && chunkRows != nil { throw ValidationError("give --chunks or --chunk-rows, not both") }
        if let chunks { try OptionChecks.count(chunks, "--chunks") }
        if let chunkRows { try OptionChecks.count(chunkRows, "--chunk-rows") }
        if let workers { try OptionChecks.count(workers, "--workers") }
        if let timeout { try OptionChecks.seconds(timeout, "--timeout") }
        if timeout != nil && workers == nil { throw ValidationError("--timeout applies to --workers") }
        if let engine = engineOptions.engine, workers == nil { throw ValidationError("--executor \(engine.rawValue) needs --workers N (the engine workers)") }
        if family == nil && (link != nil || epsilon != nil || maxit != nil) {
            throw ValidationError("--link, --epsilon and --maxit apply to a glm fit: give --family")
        }
        if family != nil && combine == .average { throw ValidationError("--combine average is for lm: a glm in chunks is exact") }
        if chunkState != nil && (family == nil || (chunks == nil && chunkRows == nil && workers == nil)) {
            throw ValidationError("--chunk-state applies to a glm in chunks: give --family, and --chunks, --chunk-rows or --workers")
        }
        if let epsilon, !(epsilon > 0 && epsilon.isFinite) { throw ValidationError("--epsilon must be a positive number (got \(epsilon))") }
        if let maxit { try OptionChecks.count(maxit, "--maxit") }
        if combine == .average && chunks == nil && chunkRows == nil {
            throw ValidationError("--combine average needs --chunks or --chunk-rows")
        }
        try validateGrouped()
    }

    func run() async throws {
        if by != nil { return try await runGrouped() }
        // A plot or a saved fit that cannot be written is refused before the fit, not after it.
        for (path, what) in [(plot, "the plot"), (save, "the saved fit")] {
            guard let path else { continue }
            do {
                try OutputFile.check(path)
            } catch {
                printError("error: cannot write \(what): \(error)")
                throw ExitCode(1)
            }
        }
        let label = URL(fileURLWithPath: data).lastPathComponent
        let bar = ProgressBar.forTerminal()
        let whole = chunks == nil && chunkRows == nil && workers == nil
        let log = ProgressLog.forNonTerminal(whole: whole ? "\(family == nil ? "lm" : "glm") on the whole of \(label)" : "reading \(label) and starting the chunks")
        defer { log?.finish() }
        let phases = timing && family != nil ? GLMPhaseClock() : nil
        let options = try fileFitOptions { @Sendable update in bar?.update(update); log?.update(update); phases?.update(update) }
        do {
            if let family {
                let specification = GeneralizedLinearModelSpecification(formula: formula, family: family, link: link, weights: weights,
                                                                         offset: offset, epsilon: epsilon ?? 1e-8, maxit: maxit ?? 25,
                                                                         rowWiseFunctions: rowWise)
                let (fit, timing) = try await GeneralizedLinearModel.fit(file: data, specification, options: options)
                bar?.finish()
                report(timing)
                if let timing, let text = phases?.report(timing) { printError(text) }
                if self.timing, let onDisk = fit.chunkStateOnDisk { printError("timing: chunk state kept \(onDisk ? "on disk" : "in memory")") }
                if let plot { try await GeneralizedLinearModel.plotCoefficients(fit, to: plot) }
                if let save { try await Self.write(try await SavedFit.from(fit, file: data, specification), to: save, formula: formula) }
                for warning in fit.warnings { printError("warning: \(warning)") }
                if json { try printFit(fit) } else { print(fit.summary) }
                return
            }
            let specification = LinearModelSpecification(formula: formula, weights: weights, offset: offset, rowWiseFunctions: rowWise)
            let (fit, timing) = try await LinearModel.fit(file: data, specification, options: options)
            bar?.finish()
            report(timing)
            if let plot { try await LinearModel.plotCoefficients(fit, to: plot) }
            if let save { try await Self.write(try await SavedFit.from(fit, file: data, specification), to: save, formula: formula) }
            if json { try printFit(fit) } else { print(fit.summary) }
        } catch {
            bar?.finish()
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// Writes the fit for `--save`, or says why it cannot be saved.
    static func write(_ saved: SavedFit?, to path: String, formula: String) async throws {
        guard let saved else {
            throw ValidationError("--save takes formulas of bare columns and their products, not \(formula) (save R's own model with saveRDS for others)")
        }
        try await saved.write(to: path)
    }

    /// How the options place the fit: chunks, workers or an engine, the timeout and the glm
    /// chunk state, with `progress` called after each chunk task.
    func fileFitOptions(progress: @escaping @Sendable (LinearModelProgress) -> Void) throws -> FileFitOptions {
        var options = FileFitOptions()
        options.chunks = chunks
        options.chunkRows = chunkRows
        options.combine = combine
        options.timeout = timeout.map { .seconds($0) }
        options.chunkState = chunkState ?? .automatic
        options.warning = { printError("warning: \($0)") }
        options.progress = progress
        if let workers, let engine = engineOptions.engine {
            options.executor = .engine(engine, workers: workers, address: engineOptions.address, executable: try engineOptions.nodeBinary(),
                                       verbose: engineOptions.verbose)
        } else if let workers {
            options.executor = .pool(workers: workers, executable: CurrentExecutable.url)
        }
        return options
    }

    /// With --timing, how long the workers took to start and the fit took, on standard error.
    func report(_ timing: FileFitTiming?) {
        guard self.timing, let timing else { return }
        printError(String(format: "timing: workers ready %.3f s, fit %.3f s (%d chunks)", timing.workersReady, timing.fit, timing.chunks)
                   + (timing.coordinatorReady.map { String(format: "; this process ready without them %.3f s", $0) } ?? ""))
        if let stopped = timing.engineStopped { printError(String(format: "timing: engine stopped in %.3f s", stopped)) }
    }

    /// Prints a fit as JSON: NaN (the average combine's p-values, a quasi family's AIC) and the
    /// infinities written as R would print them.
    private func printFit(_ fit: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Inf", negativeInfinity: "-Inf", nan: "NaN")
        FileHandle.standardOutput.write(try encoder.encode(fit) + Data("\n".utf8))
    }
}

extension LinearModelCombine: ExpressibleByArgument {}
extension ChunkStatePlacement: ExpressibleByArgument {}

/// Where a chunked glm's time went, from its progress reports: the first pass (the chunks
/// read and built, and their first round), the IRLS rounds after it, and the summary's sums.
final class GLMPhaseClock: Sendable {
    private struct State {
        var readDone: ContinuousClock.Instant?
        var lastRound: ContinuousClock.Instant?
        var rounds: Set<Int> = []
    }
    private let state = Mutex(State())

    /// Notes the end of a pass of chunk jobs.
    func update(_ progress: LinearModelProgress) {
        guard progress.chunksDone == progress.chunkCount else { return }
        let now = ContinuousClock.now
        state.withLock { state in
            switch progress.step {
            case "read": state.readDone = now
            case "iteration":
                state.rounds.insert(progress.pass)
                state.lastRound = now
            default: break
            }
        }
    }

    /// The phases of `timing.fit`, ending now (less an engine's stop), as one line.
    func report(_ timing: FileFitTiming) -> String? {
        let end = ContinuousClock.now - .seconds(timing.engineStopped ?? 0)
        return state.withLock { state -> String? in
            guard let readDone = state.readDone else { return nil }
            let rounds = state.rounds.count
            let iterating = state.lastRound.map { ($0 - readDone).seconds } ?? 0
            let summary = ((end - (state.lastRound ?? readDone)).seconds)
            let first = timing.fit - iterating - summary
            return String(format: "timing: glm first pass (read, build, first round) %.3f s; %d IRLS rounds after it %.3f s (%.3f s each); summary %.3f s",
                          first, rounds, iterating, rounds > 0 ? iterating / Double(rounds) : 0, summary)
        }
    }
}

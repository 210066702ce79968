import CR
import Foundation
import Synchronization

/// The result of evaluating R code: the value plus what R printed and warned along the way.
public struct REvaluation: Sendable, Equatable {
    /// The value of the last expression (or the function's return value).
    public var value: RValue
    /// Everything R wrote to its console (stdout and stderr, in order), including `message()`s;
    /// empty when the evaluation streamed its console (`RConsole.stream`).
    public var output: String
    /// The messages of warnings R signalled, in order; printed only when the console streams.
    public var warnings: [String]
}

/// One argument of an R function call: an optional name and a value.
public struct RArgument: Sendable {
    /// The argument name (`nil` for positional arguments).
    public var name: String?
    /// The value passed.
    public var value: RValue

    /// A named or positional argument.
    public init(_ name: String? = nil, _ value: any REncodable) {
        self.name = name
        self.value = value.rValue
    }
}

/// The embedded R interpreter: one per process, entered only from its dedicated thread.
///
/// Every method may be called from any task or thread; calls are queued to the R thread and run
/// one at a time. R errors, parse errors and deep recursion come back as thrown `RError`s;
/// cancelling the calling task interrupts the running R computation.
public final class RRuntime: Sendable {
    private static let startup = Mutex<Result<RRuntime, RError>?>(nil)

    /// Where R was found (`R_HOME`) and how.
    public let home: String
    /// How `home` was found: "R_HOME environment variable", "`R RHOME`" or "default location".
    public let homeSource: String
    /// R's version string, e.g. "R version 4.2.2 Patched (2022-11-10 r83330)".
    public let version: String

    let thread: RThread
    private let jobs = Mutex(RJobState())
    /// Set by the Python runtime: takes Python's GIL on the current thread and returns its releaser.
    ///
    /// R code that uses reticulate calls Python from the R thread without taking the GIL itself,
    /// so once reticulate is loaded every user job holds it.
    ///
    /// The function is kept in a class: a function value read out of a `Mutex` (`withLock { $0 }`)
    /// is written back wrapped in one more reabstraction thunk on every read, so after n jobs a
    /// call went through n thunks (time quadratic in the jobs, and a stack that grew with them).
    static let hostLock = Mutex<HostLock?>(nil)

    /// The function that takes the host lock and returns its releaser.
    final class HostLock: Sendable {
        let acquire: @Sendable () -> @Sendable () -> Void
        init(_ acquire: @escaping @Sendable () -> @Sendable () -> Void) { self.acquire = acquire }
    }

    /// Installs the function that takes the Python GIL for R jobs that may call into Python.
    public static func setHostLock(_ acquire: @escaping @Sendable () -> @Sendable () -> Void) {
        let lock = HostLock(acquire)
        hostLock.withLock { $0 = lock }
    }

    /// The process's R runtime, started on first use (later calls return the same instance or error).
    public static func shared() throws(RError) -> RRuntime {
        let result = startup.withLock { cached -> Result<RRuntime, RError> in
            if let cached { return cached }
            let started = Result<RRuntime, RError> { () throws(RError) -> RRuntime in try RRuntime() }
            cached = started
            return started
        }
        return try result.get()
    }

    /// True once R has been started in this process.
    public static var isStarted: Bool {
        startup.withLock { if case .success = $0 { true } else { false } }
    }

    private init() throws(RError) {
        RuntimeEnvironment.prepare()
        let (home, source) = try RRuntime.findHome()
        self.home = home
        self.homeSource = source
        let thread = RThread(name: "polybridge-R")
        self.thread = thread
        let startup: Result<String, RError>
        do {
            startup = .success(try thread.performBlocking { () throws -> String in
                try RRuntime.initializeOnRThread(home: home, thread: thread)
            })
        } catch let error as RError {
            startup = .failure(error)
        } catch {
            startup = .failure(.startup(reason: "\(error)", fix: "apt-get install -y r-base-dev"))
        }
        self.version = try startup.get()
        // rpy2 inside the embedded Python attaches to this R instead of starting its own.
        setenv("R_SESSION_INITIALIZED", "PID=\(getpid()):NAME=\"polybridge\"", 1)
    }

    private static func findHome() throws(RError) -> (String, String) {
        if let fromEnvironment = ProcessInfo.processInfo.environment["R_HOME"], !fromEnvironment.isEmpty {
            // R itself would print a message and end the process.
            guard FileManager.default.fileExists(atPath: fromEnvironment + "/lib/libR.so") else {
                throw .startup(reason: "R_HOME=\(fromEnvironment) is not an R installation (it has no lib/libR.so)",
                               fix: "unset R_HOME, or point it at R's home (`R RHOME` prints it)")
            }
            return (fromEnvironment, "R_HOME environment variable")
        }
        // Debian's `R` front end is a shell script that names its home; reading it is faster than running it.
        if let r = RuntimeEnvironment.which("R"),
           let script = try? String(contentsOfFile: r, encoding: .utf8),
           let line = script.split(separator: "\n").first(where: { $0.hasPrefix("R_HOME_DIR=") }) {
            let home = line.dropFirst("R_HOME_DIR=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            if FileManager.default.fileExists(atPath: home + "/lib/libR.so") {
                return (home, "R_HOME_DIR in \(r)")
            }
        }
        if let r = RuntimeEnvironment.which("R"),
           let output = RuntimeEnvironment.capture(r, ["RHOME"])?.trimmingCharacters(in: .whitespacesAndNewlines),
           !output.isEmpty {
            return (output, "`R RHOME` (R found on PATH at \(r))")
        }
        if FileManager.default.fileExists(atPath: "/usr/lib/R/lib/libR.so") {
            return ("/usr/lib/R", "default Debian location /usr/lib/R")
        }
        throw .startup(reason: "no R installation found (R_HOME unset, no `R` on PATH)",
                       fix: "apt-get update && apt-get install -y r-base-dev")
    }

    private static func initializeOnRThread(home: String, thread: RThread) throws -> String {
        var message = [CChar](repeating: 0, count: 512)
        guard pb_r_initialize(home, rConsoleSink, &message, message.count) != 0 else {
            throw RError.startup(reason: String(nulTerminated: message), fix: "check R_HOME=\(home)")
        }
        // Removed also when the process ends by a signal or `_exit` (which skip the
        // at_quick_exit handler the shim registers), see ProcessEnd.
        if let temporary = pb_r_temp_dir() { ProcessEnd.removeAtEnd(String(cString: temporary)) }
        pb_r_register_host_events(rHostEventHandler)
        pb_r_register_altrep(rForeignRelease)
        // From the next job on, the loop runs inside a top-level context of its own, so an R
        // error that escaped a guard is reported before the process exits, never silent.
        thread.guardLoop(with: RGuardedLoop.run)
        let session = RSession(thread: thread)
        let prelude = try session.evaluateText(RPrelude.source, purpose: "loading the Polybridge prelude")
        RThreadState.preludeEvalText = pb_r_preserve(VECTOR_ELT(prelude, 0))
        RThreadState.preludeCallFunction = pb_r_preserve(VECTOR_ELT(prelude, 1))
        RThreadState.preludeState = pb_r_preserve(VECTOR_ELT(prelude, 2))
        let version = try session.evaluateText("R.version.string", purpose: "reading R's version")
        RThreadState.clearConsole()
        return (try session.readStrings(version).first ?? nil) ?? "R (unknown version)"
    }

    // MARK: Evaluation

    /// Parses and evaluates `code` in the global environment.
    ///
    /// With `printVisible`, visible values are printed the way `Rscript -e` prints them. Console
    /// output is captured into `output` by default; `console: .stream(...)` hands it over as R
    /// writes it and reports warnings and errors the way `Rscript` does (see `RConsole`).
    public func evaluate(_ code: String, printVisible: Bool = false, console: RConsole = .capture) async throws -> REvaluation {
        let report = console.writer != nil
        return try await runUserJob(console: console) { session in
            let function = CAR(RThreadState.preludeEvalText)!
            let call = try session.lang(function, [
                try session.makeStrings([code]), session.globalEnvironment,
                try session.make(.logical([printVisible])), try session.make(.logical([report])),
            ])
            return call
        }
    }

    /// Evaluates `code` and decodes its value as `T`.
    public func eval<T: RDecodable>(_ code: String, as type: T.Type = T.self) async throws -> T {
        try T(rValue: try await evaluate(code).value)
    }

    /// Calls the R function named `function` (e.g. "sum" or "stats::median") with `arguments`.
    ///
    /// `function` may also be any single R expression that evaluates to a function, such as
    /// `"function(x) x + 1"`. The argument values go into the call as they are (never evaluated).
    public func call(_ function: String, _ arguments: [RArgument]) async throws -> REvaluation {
        try await runUserJob { session in
            let wrapper = CAR(RThreadState.preludeCallFunction)!
            let head = RRuntime.isPlainName(function) ? try session.symbol(function) : try session.parse(function)
            var values: [SEXP] = []
            values.reserveCapacity(arguments.count)
            for argument in arguments { values.append(try session.make(argument.value)) }
            let call = try session.lang(head, values, names: arguments.map(\.name))
            // Quoted: the wrapper's argument is a promise, and forcing an unquoted call would run
            // it there and hand eval() its result to evaluate again (a symbol, a call, ...).
            let quoted = try session.lang(try session.symbol("quote"), [call])
            return try session.lang(wrapper, [quoted, session.globalEnvironment])
        }
    }

    /// Whether `text` is a name R reads as one symbol (`sum`, `is.na`), so it needs no parsing.
    static func isPlainName(_ text: String) -> Bool {
        guard let first = text.utf8.first, first == UInt8(ascii: ".") || (first | 0x20) >= UInt8(ascii: "a") && (first | 0x20) <= UInt8(ascii: "z") else {
            return false
        }
        // ".5" is a number, not a name.
        if first == UInt8(ascii: "."), text.utf8.count > 1, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text.utf8.dropFirst().first!) {
            return false
        }
        let reserved: Set<String> = ["if", "else", "repeat", "while", "function", "for", "next", "break",
                                     "TRUE", "FALSE", "NULL", "Inf", "NaN", "NA", "in"]
        return !reserved.contains(text) && text.utf8.allSatisfy { byte in
            byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || ((byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z"))
        }
    }

    /// Calls the R function named `function` with positional arguments.
    public func call(_ function: String, _ arguments: any REncodable...) async throws -> REvaluation {
        try await call(function, arguments.map { RArgument(nil, $0) })
    }

    /// Assigns `value` to the variable `name` in R's global environment.
    public func assign(_ name: String, _ value: any REncodable) async throws {
        _ = try await call("function(name, value) assign(name, value, envir = globalenv())",
                           [RArgument(nil, name), RArgument(nil, value)])
    }

    /// The value of the variable `name` in R's global environment (an error if it does not exist).
    public func value(of name: String) async throws -> RValue {
        try await call("function(name) get(name, envir = globalenv())", [RArgument(nil, name)]).value
    }

    /// Runs `body` on the R thread with a session for direct C API work (conversions use this).
    ///
    /// R errors inside guarded session calls become thrown errors; the body must not let SEXPs
    /// escape. The job follows the same discipline as `evaluate` and `call`: it holds Python's
    /// GIL once reticulate is loaded, its console output is discarded (or handed to the writer
    /// of `console: .stream`, as R writes it), and cancelling the calling task interrupts it
    /// (the guarded call that sees the interrupt throws `CancellationError`).
    public func withSession<T: Sendable>(console: RConsole = .capture,
                                         _ body: @escaping @Sendable (RSession) throws -> T) async throws -> T {
        let ticket = RJobTicket()
        return try await thread.performCancellable({ [self] in try runJob(ticket, console: console, body) },
                                                   onCancel: { [self] in cancel(ticket) })
    }

    /// Like `withSession`, but blocks the calling thread (for synchronous callers such as the CLI).
    /// `interruptCurrentComputation()` stops it.
    public func withSessionBlocking<T: Sendable>(_ body: @escaping @Sendable (RSession) throws -> T) throws -> T {
        let ticket = RJobTicket()
        return try thread.performBlocking { [self] in try runJob(ticket, body) }
    }

    /// Sets what `commandArgs()` returns, as Rscript's command line would: the words Polybridge
    /// started R with, then `--file=script` when a script runs, then `--args` and `arguments`
    /// (what `commandArgs(trailingOnly = TRUE)` returns) when there are any.
    public func setCommandArguments(script: String?, arguments: [String]) throws {
        var words = ["polybridge", "--vanilla", "--silent", "--no-echo"]
        if let script { words.append("--file=\(script)") }
        if !arguments.isEmpty { words += ["--args"] + arguments }
        let commandLine = words
        try withSessionBlocking { _ in
            let copies = commandLine.map { strdup($0) }
            defer { copies.forEach { free($0) } }
            let pointers = copies.map { UnsafePointer($0) }
            pointers.withUnsafeBufferPointer { pb_r_set_command_arguments(Int32(commandLine.count), $0.baseAddress) }
        }
    }

    /// Raises an R error outside every guard, to test the last line of defence: R's message and
    /// an internal-error line are printed and the process exits with status 70. Never returns.
    public func raiseUnguardedErrorForTesting(_ message: String) throws {
        try withSessionBlocking { _ in pb_r_raise_unguarded(message) }
    }

    /// Interrupts the R computation running now, if any (what Ctrl-C does). Safe from any thread.
    public func interruptCurrentComputation() {
        let running = jobs.withLock { $0.running }
        RRuntime.trace("interrupt the current computation: \(running.map { "\(ObjectIdentifier($0))" } ?? "none running")")
        if let running { keepInterrupting(running) }
    }

    // MARK: Jobs

    /// Runs a prelude wrapper call built by `buildCall` and turns its outcome into a result or error.
    private func runUserJob(console: RConsole = .capture,
                            _ buildCall: @escaping @Sendable (RSession) throws -> SEXP) async throws -> REvaluation {
        let ticket = RJobTicket()
        return try await thread.performCancellable({ [self] in
            try runJob(ticket, console: console) { session in
                let call = try buildCall(session)
                let value = try session.evaluateUnlessAborted(call)
                return try self.outcome(of: value, session: session, ticket: ticket)
            }
        }, onCancel: { [self] in cancel(ticket) })
    }

    /// The one discipline for every job on the R thread: registered for interrupts, holding the
    /// GIL once reticulate is loaded (it calls Python without taking it), console captured for
    /// this job only (or streamed to its writer), and a session whose guarded calls know the
    /// job's cancellation.
    private func runJob<T>(_ ticket: RJobTicket, console: RConsole = .capture, _ body: (RSession) throws -> T) throws -> T {
        pb_r_begin_job()
        let outer = try begin(ticket)
        defer { end(ticket, resuming: outer) }
        if RThreadState.reticulateLoaded { RThreadState.holdHostLock() }
        // Also released when the job itself loaded reticulate (its onLoad hook took the lock).
        defer { RThreadState.releaseHostLock() }
        RThreadState.clearConsole()
        defer { RThreadState.clearConsole() }
        // A job started inside another (R calling back into the host) gives the writer back.
        let outerWriter = RThreadState.consoleWriter
        RThreadState.consoleWriter = console.writer
        defer { RThreadState.consoleWriter = outerWriter }
        return try body(RSession(thread: thread, ticket: ticket))
    }

    /// Marks `ticket`'s job as running; returns the job it interrupts, if R code called back
    /// into the host and started a job inside another.
    private func begin(_ ticket: RJobTicket) throws -> RJobTicket? {
        try jobs.withLock { state in
            RRuntime.trace("begin \(ObjectIdentifier(ticket)) cancelled=\(ticket.cancelled.load(ordering: .acquiring)) outer=\(state.running.map { "\(ObjectIdentifier($0))" } ?? "nil")")
            if ticket.cancelled.load(ordering: .acquiring) { throw CancellationError() }
            let outer = state.running
            state.running = ticket
            pb_r_set_running_job_interrupted(0)
            ticket.started.store(true, ordering: .releasing)
            return outer
        }
    }

    private func end(_ ticket: RJobTicket, resuming outer: RJobTicket?) {
        jobs.withLock { state in
            ticket.finished.store(true, ordering: .releasing)
            RRuntime.trace("end \(ObjectIdentifier(ticket)) outer=\(outer.map { "\(ObjectIdentifier($0))" } ?? "nil")")
            state.running = outer
            pb_r_set_running_job_interrupted(outer?.interruptRequested.load(ordering: .acquiring) == true ? 1 : 0)
            pb_r_clear_interrupt()
            // An outer job that was being interrupted still is.
            if let outer, outer.interruptRequested.load(ordering: .acquiring) { pb_r_request_interrupt() }
        }
    }

    private func cancel(_ ticket: RJobTicket) {
        ticket.cancelled.store(true, ordering: .releasing)
        RRuntime.trace("cancel \(ObjectIdentifier(ticket)) started=\(ticket.started.load(ordering: .acquiring)) finished=\(ticket.finished.load(ordering: .acquiring))")
        keepInterrupting(ticket)
    }

    static let tracing = ProcessInfo.processInfo.environment["POLYBRIDGE_TRACE_JOBS"] != nil
    /// Writes `text` to stderr when POLYBRIDGE_TRACE_JOBS is set (jobs, cancels, interrupts).
    public static func trace(_ text: @autoclosure () -> String) {
        if tracing { FileHandle.standardError.write(Data("[jobs] \(text())\n".utf8)) }
    }

    /// Sets R's interrupt flag while `ticket`'s job runs, and again every 20 ms until it ends.
    ///
    /// One request is not enough: other code on the R thread can consume the flag before R's
    /// evaluator sees it. reticulate's event polling does exactly that when Python runs on the R
    /// thread (for instance when R's GC releases a buffer shared with Python).
    private func keepInterrupting(_ ticket: RJobTicket) {
        // Keyed on the ticket's own state, not on which job `running` names, so the request
        // keeps coming until this job has really ended.
        let running = jobs.withLock { state in
            guard ticket.started.load(ordering: .acquiring), !ticket.finished.load(ordering: .acquiring) else { return false }
            ticket.interruptRequested.store(true, ordering: .releasing)
            // Kept for as long as the job runs (the shim re-asserts it); a job running inside
            // this one gets it back when it ends.
            if state.running === ticket { pb_r_set_running_job_interrupted(1) }
            pb_r_request_interrupt()
            RRuntime.trace("request \(ObjectIdentifier(ticket))")
            return true
        }
        guard running else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(20)) { [self] in
            keepInterrupting(ticket)
        }
    }

    /// The result of a prelude wrapper: `value` (nil when R unwound) plus what the wrapper's
    /// handlers recorded in the prelude's `state`.
    private func outcome(of value: SEXP?, session: RSession, ticket: RJobTicket) throws -> REvaluation {
        let output = RThreadState.takeConsole()
        let state = CAR(RThreadState.preludeState)!
        // An interrupt can arrive before the wrapper resets `state`: the cancel decides first.
        if value == nil, ticket.cancelled.load(ordering: .acquiring) { throw CancellationError() }
        if let value {
            let warnings = try session.variable("warnings", in: state).map { try session.readStrings($0).compactMap { $0 } } ?? []
            return REvaluation(value: try session.read(value), output: output, warnings: warnings)
        }
        guard let recorded = try session.variable("error", in: state) else {
            // Unwound without a recorded error: an interrupt, or an error R raised without
            // running calling handlers (it does so when the C stack or eval depth is exhausted).
            if ticket.interruptRequested.load(ordering: .acquiring) { throw RError.interrupted }
            throw RError.evaluation(message: RRuntime.conditionMessage(fromErrorBuffer: String(cString: pb_r_last_error())),
                                    call: nil, output: output)
        }
        let parts = try session.readStrings(recorded).map { $0 ?? "" }
        guard parts.count == 3 else { throw RError.evaluation(message: parts.joined(separator: " "), call: nil, output: output) }
        if parts[0] == "parse" { throw RError.parse(message: parts[1]) }
        throw RError.evaluation(message: parts[1], call: parts[2].isEmpty ? nil : parts[2], output: output)
    }
}

/// Which user job is running on the R thread (guarded by `RRuntime.jobs`).
struct RJobState {
    var running: RJobTicket?
}

/// Identity and cancellation flag of one queued R job.
final class RJobTicket: Sendable {
    /// Set when the calling task was cancelled.
    let cancelled = Atomic<Bool>(false)
    /// Set when an interrupt was requested for this job (a cancel or Ctrl-C).
    let interruptRequested = Atomic<Bool>(false)
    /// Set when the job begins running on the R thread.
    let started = Atomic<Bool>(false)
    /// Set when the job has ended (normally, by an error or by an interrupt).
    let finished = Atomic<Bool>(false)
}

extension RRuntime {
    /// R's message from its error buffer ("Error in f(x) : message\n"), without the framing.
    public static func conditionMessage(fromErrorBuffer buffer: String) -> String {
        var text = buffer.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("Error in "), let colon = text.range(of: " : ") {
            text = String(text[colon.upperBound...])
        } else if text.hasPrefix("Error: ") {
            text = String(text.dropFirst("Error: ".count))
        }
        // R appends the calls that led to the error ("Calls: f -> g") when it was not raised
        // with call. = FALSE: a traceback of R internals, not part of the message.
        if let calls = text.range(of: "\nCalls: ", options: .backwards) {
            text = String(text[..<calls.lowerBound])
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

import Foundation
import PolybridgeJobs
import PolybridgeRuntime
import Synchronization

/// Runs jobs on a pool of warm worker processes (`polybridge worker`), each with its own
/// embedded R and Python. Only the request (a chunk task and its file path, a step and the
/// paths of its inputs) and the answer travel, as JSON lines over the worker's stdin and
/// stdout pipes (``JobWire``); a chunk's worker reads its rows from the file itself.
///
/// A worker that dies mid-job (`kill -9`) or stops answering is replaced and the job sent
/// again (up to `retries` times), so each chunk is counted once; past that the job fails with
/// ``JobError/Code/workerDied``. A job that takes longer than `timeout` fails with
/// ``JobError/Code/timedOut`` and its worker is replaced. Cancelling the calling task kills the
/// worker running it; ``shutdown()`` (also run when the executor goes away) kills every
/// worker. Workers stay warm between fits.
public final class ProcessPoolExecutor: JobExecutor, ChunkExecutor, @unchecked Sendable {
    private let executable: URL
    private let timeout: Duration?
    private let retries: Int
    private let state: Mutex<PoolState>

    private struct PoolState {
        /// The most workers that may run; ``limit(to:)`` lowers it.
        var size: Int
        var idle: [Worker] = []
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
        var all: [Int32: Worker] = [:]
        var starting = 0
        /// Which worker holds each key jobs kept (by process ID), and the request that kept it.
        var holders: [String: Int32] = [:]
        var recipes: [String: Data] = [:]
        var rebuilds = 0
        var discarded = 0
    }

    /// The workers' temporary folder (their TMPDIR, where each R makes its session folder):
    /// workers are killed, not asked to quit, so their R cannot remove its own folder; the pool
    /// removes this one when it goes away, and the next pool removes one whose process is gone.
    private let scratch: String?

    /// How long a worker may send nothing, not even its heartbeat, before it counts as dead.
    let silence: Duration

    /// A pool of `workers` processes of `executable` (the `polybridge` binary). A worker that
    /// sends nothing for `silence` (it writes a heartbeat every second, so it is stopped or
    /// frozen) is killed and its work sent again, as for a worker that died.
    public init(executable: URL, workers: Int, timeout: Duration? = nil, retries: Int = 2, silence: Duration = .seconds(30)) {
        self.executable = executable
        self.state = Mutex(PoolState(size: max(1, workers)))
        self.timeout = timeout
        self.retries = retries
        self.silence = silence
        scratch = try? ProcessFolders.makeOwn(in: ProcessFolders.temporaryBase, prefix: ProcessFolders.workersPrefix)
        // Also when Ctrl-C or a signal ends this process (the workers die with it).
        if let scratch { ProcessEnd.removeAtEnd(scratch) }
    }

    deinit {
        shutdown()
        if let scratch {
            try? FileManager.default.removeItem(atPath: scratch)
            ProcessEnd.forget(scratch)
        }
    }

    /// The process IDs of the live workers.
    public var workerProcessIDs: [Int32] { state.withLock { Array($0.all.keys) } }

    /// Kills every worker; later tasks start new ones.
    public func shutdown() {
        let workers = state.withLock { state -> [Worker] in
            let workers = Array(state.all.values)
            state.all.removeAll()
            state.idle.removeAll()
            return workers
        }
        for worker in workers { worker.kill() }
    }

    /// The most workers this pool runs at once.
    public var size: Int { state.withLock { $0.size } }

    /// Lowers the number of workers to `count` (at least 1), say to the number of chunks once it
    /// is known: idle workers beyond it are stopped now, busy ones when they finish.
    public func limit(to count: Int) {
        let surplus = state.withLock { state -> [Worker] in
            state.size = max(1, min(state.size, count))
            var surplus: [Worker] = []
            while state.all.count > state.size, let worker = state.idle.popLast() {
                state.all[worker.processID] = nil
                surplus.append(worker)
            }
            return surplus
        }
        for worker in surplus { worker.kill() }
    }

    /// Starts workers not yet running, up to `count` (the pool's size when nil), and waits until
    /// each has its R and Python up, so that the next fit spends its time on chunks alone.
    public func warmUp(count: Int? = nil) async throws {
        let request = try JobWire.request(WarmUpJob()) + Data("\n".utf8)
        let wanted = min(count ?? size, size)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(0, wanted) {
                group.addTask { [self] in
                    let worker = try await acquire()
                    switch await worker.exchange(request, timeout: timeout, silence: silence) {
                    case .line(let line):
                        do {
                            _ = try JobWire.output(of: WarmUpJob.self, from: line)
                        } catch let error as JobError {
                            // A worker whose R or Python cannot start is of no use.
                            discard(worker)
                            throw JobError(error.code, "a worker process cannot start R or Python (\(executable.path) worker): \(error.message)")
                        }
                        release(worker)
                    case .ended, .silent:
                        worker.kill()
                        discard(worker)
                        throw JobError(.workerDied, "a worker process did not start (\(executable.path) worker)")
                    case .timedOut:
                        discard(worker)
                        throw JobError(.timedOut, "a worker process did not start within the timeout of \(timeoutText) "
                                       + "(the timeout bounds a worker's start as well as each chunk; \(executable.path) worker)")
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// The process ID of the worker that holds `key` (kept by an earlier job), if it lives.
    public func holder(of key: String) -> Int32? {
        state.withLock { state in state.holders[key].flatMap { state.all[$0] == nil ? nil : $0 } }
    }

    /// How many times a worker rebuilt a key before a job (the worker that held it was gone).
    public var rebuildCount: Int { state.withLock { $0.rebuilds } }

    /// How many workers were dropped for dying, going silent or timing out (the next job
    /// starts a new one in their place).
    public var replacedCount: Int { state.withLock { $0.discarded } }

    /// Runs `job` on a free worker (starting one when fewer than the pool's size run; waiting
    /// when all are busy) and returns its output or throws its ``JobError``. A job that uses a
    /// key (``Job/usesKey``) waits for the worker that holds it; where that worker is gone, it
    /// goes to another with the request that kept the key, which that worker runs first.
    public func run<J: Job>(_ job: J) async throws -> J.Output {
        let plain = try JobWire.request(job)
        var attempt = 0
        while true {
            try Task.checkCancellation()
            let (target, recipe) = state.withLock { state in (job.usesKey.flatMap { state.holders[$0] }, job.usesKey.flatMap { state.recipes[$0] }) }
            let worker = try await acquire(preferring: target)
            if Task.isCancelled {
                release(worker)
                throw CancellationError()
            }
            var request = plain
            if let key = job.usesKey, let recipe, target != worker.processID {
                request = try JobWire.request(job, rebuild: (key, recipe))
            }
            request.append(UInt8(ascii: "\n"))
            let outcome = await withTaskCancellationHandler {
                await worker.exchange(request, timeout: timeout, silence: silence)
            } onCancel: {
                worker.kill()
            }
            switch outcome {
            case .line(let line):
                state.withLock { state in
                    for key in JobWire.keptKeys(in: line) {
                        state.holders[key] = worker.processID
                        state.recipes[key] = plain
                    }
                    if let key = job.usesKey, state.recipes[key] != nil { state.holders[key] = worker.processID }
                    state.rebuilds += JobWire.rebuiltKeys(in: line).count
                }
                release(worker)
                return try JobWire.output(of: J.self, from: line)
            case .ended, .silent:
                worker.kill()
                discard(worker)
                try Task.checkCancellation()
                attempt += 1
                guard attempt <= retries else {
                    throw JobError(.workerDied, "its worker process died or stopped answering (no heartbeat for \(silence.seconds) s) \(attempt) times")
                }
            case .timedOut:
                worker.kill()
                discard(worker)
                throw JobError(.timedOut, "timed out: the \(J.noun) exceeded the timeout of \(timeoutText)")
            }
        }
    }

    /// Runs `task` on a worker; `data` must be a file.
    public func run(_ task: LinearModelChunkTask, data: ChunkData) async throws -> LinearModelChunkResult {
        guard case .file(let path, let identity) = data else {
            throw LinearModelError.wrongDataForExecutor(executor: "worker pool", needs: "a file its workers read (ChunkData.file)")
        }
        do {
            return try await run(LinearModelChunkJob(task: task, path: path, identity: identity))
        } catch let error as JobError {
            throw LinearModelError.chunkFailed(task, message: error.message)
        }
    }

    /// The timeout as the messages give it: `0.001 s`, `3 s`.
    private var timeoutText: String {
        guard let seconds = timeout?.seconds else { return "none" }
        return (seconds.rounded() == seconds && abs(seconds) < 1e15 ? "\(Int(seconds))" : "\(seconds)") + " s"
    }

    /// Worker `processID` once it is free, or any free worker when it is gone (or nil).
    private func acquire(preferring processID: Int32?) async throws -> Worker {
        guard let processID else { return try await acquire() }
        while true {
            enum Next { case worker(Worker), gone, wait }
            let next = state.withLock { state -> Next in
                guard state.all[processID] != nil else { return .gone }
                if let index = state.idle.firstIndex(where: { $0.processID == processID }) {
                    state.running += 1
                    return .worker(state.idle.remove(at: index))
                }
                return .wait
            }
            switch next {
            case .worker(let worker): return worker
            case .gone: return try await acquire()
            case .wait:
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.all[processID] == nil || state.idle.contains(where: { $0.processID == processID }) { return true }
                        state.waiting.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    /// A free worker, starting one when fewer than `size` run; waits when all are busy.
    private func acquire() async throws -> Worker {
        while true {
            enum Next { case worker(Worker), start, wait }
            let next = state.withLock { state -> Next in
                if let worker = state.idle.popLast() { state.running += 1; return .worker(worker) }
                if state.all.count + state.starting < state.size { state.running += 1; state.starting += 1; return .start }
                return .wait
            }
            switch next {
            case .worker(let worker):
                return worker
            case .start:
                do {
                    let worker = try Worker(executable: executable, temporaryFolder: scratch)
                    state.withLock { $0.all[worker.processID] = worker; $0.starting -= 1 }
                    return worker
                } catch {
                    // Waiters for the slot look again (another start, or an error of their own).
                    let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                        state.running -= 1
                        state.starting -= 1
                        defer { state.waiting.removeAll() }
                        return state.waiting
                    }
                    for waiter in waiters { waiter.resume() }
                    throw JobError(.workerDied, "cannot start a worker process (\(executable.path))", cause: "\(error)")
                }
            case .wait:
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.idle.isEmpty || state.all.count + state.starting < state.size { return true }
                        state.waiting.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    private func release(_ worker: Worker) {
        let (waiters, surplus) = state.withLock { state -> ([CheckedContinuation<Void, Never>], Bool) in
            state.running -= 1
            // A worker beyond a lowered limit is stopped rather than kept idle.
            let surplus = state.all[worker.processID] != nil && state.all.count > state.size
            if surplus { state.all[worker.processID] = nil } else if state.all[worker.processID] != nil { state.idle.append(worker) }
            // Every waiter looks again: one may wait for this worker in particular.
            defer { state.waiting.removeAll() }
            return (state.waiting, surplus)
        }
        if surplus { worker.kill() }
        for waiter in waiters { waiter.resume() }
    }

    private func discard(_ worker: Worker) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.running -= 1
            state.all[worker.processID] = nil
            state.discarded += 1
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        worker.kill()
        for waiter in waiters { waiter.resume() }
    }
}

/// One worker process and its pipes.
final class Worker: @unchecked Sendable {
    enum Outcome { case line(Data), ended, timedOut, silent }

    let process: Process
    let processID: Int32
    private let input: FileHandle
    private let output: Int32
    private var buffered: [UInt8] = []

    init(executable: URL, temporaryFolder: String?) throws {
        process = Process()
        process.executableURL = executable
        process.arguments = ["worker"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.standardError
        // Each chunk allocates and frees its columns: glibc keeps the freed memory for the next
        // chunk (one arena, no trimming, no mmap for chunk-sized blocks) rather than returning it
        // to the kernel and paying to zero fresh pages, and pyarrow allocates through the same
        // malloc. A worker that crashes is replaced and its chunk retried (then reported by
        // the pool); Swift's crash backtracer is off in workers because it inherits the worker's
        // pipes and, when it hangs (seen on a process crashing inside `exit`), the pool would
        // never see the worker's end. A value the user set wins.
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in ["MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_THRESHOLD_": "33554432",
                              "MALLOC_TRIM_THRESHOLD_": "2147483648", "ARROW_DEFAULT_MEMORY_POOL": "system",
                              "SWIFT_BACKTRACE": "enable=no"]
        where environment[name] == nil {
            environment[name] = value
        }
        if let temporaryFolder { environment["TMPDIR"] = temporaryFolder }
        process.environment = environment
        try WorkerSpawner.start(process)
        processID = process.processIdentifier
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading.fileDescriptor
        self.outputHandle = stdout.fileHandleForReading
    }

    private let outputHandle: FileHandle

    /// Kills the process (SIGKILL) and reaps it.
    func kill() {
        if process.isRunning { Foundation.kill(processID, SIGKILL) }
    }

    /// The worker's exchanges, one at a time, on a Dispatch thread (never a thread of Swift's
    /// concurrency pool, which must not block). Not a new thread per exchange: at thousands of
    /// requests a second that cost more than the request, and each new thread could take a new
    /// malloc arena.
    private let exchanges = DispatchQueue(label: "polybridge.worker-exchange")

    /// Writes `request` and reads one response line.
    /// A worker writes an empty line every second while it lives (see `WorkerAnswers`); one
    /// silent for `silence` is stopped or frozen, and is treated as one that died.
    func exchange(_ request: Data, timeout: Duration?, silence: Duration) async -> Outcome {
        await withCheckedContinuation { continuation in
            exchanges.async { [self] in
                continuation.resume(returning: exchangeBlocking(request, timeout: timeout, silence: silence))
            }
        }
    }

    private func exchangeBlocking(_ request: Data, timeout: Duration?, silence: Duration) -> Outcome {
        // A worker that has just died (killed on cancel, a crash) closes its end of the pipe:
        // the write then fails with EPIPE, and the SIGPIPE it raises is blocked on this thread
        // (which only ever writes to workers) rather than ending the whole process.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        do { try input.write(contentsOf: request) } catch { return .ended }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var heard = ContinuousClock.now
        var chunk = [UInt8](repeating: 0, count: 65536)
        // Bytes before `scanned` hold no newline: each read is searched once, so an answer of
        // many megabytes (a factor with a thousand columns) costs its length, not its square.
        var scanned = 0
        while true {
            if let newline = buffered[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffered[..<newline]
                buffered = Array(buffered[(newline + 1)...])
                scanned = 0
                if line.isEmpty { continue }  // a heartbeat
                return .line(Data(line))
            }
            scanned = buffered.count
            let now = ContinuousClock.now
            if now - heard > silence { return .silent }
            var left = heard + silence - now
            if let deadline {
                if deadline <= now { return .timedOut }
                left = min(left, deadline - now)
            }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(left.seconds * 1000 + 1, 60_000)))
            if ready < 0 { if errno == EINTR { continue }; return .ended }
            if ready == 0 { continue }
            heard = ContinuousClock.now
            let count = read(output, &chunk, chunk.count)
            if count < 0 { if errno == EINTR { continue }; return .ended }
            if count == 0 { return .ended }
            buffered.append(contentsOf: chunk[0..<count])
        }
    }

    deinit {
        kill()
        try? input.close()
        try? outputHandle.close()
    }
}

/// Starts worker processes from one thread that lives as long as this process. A worker asks
/// the kernel to end it when its parent ends, and Linux delivers that signal when the *thread*
/// that started the worker ends: a pool thread, which the system may retire when idle, would
/// take its workers with it.
enum WorkerSpawner {
    /// One start request: the process, and where the spawner reports back.
    private final class Request: @unchecked Sendable {
        let process: Process
        let done = DispatchSemaphore(value: 0)
        var failure: (any Error)?
        init(_ process: Process) { self.process = process }
    }

    private static let pending = Mutex<(started: Bool, requests: [Request])>((false, []))
    private static let wake = DispatchSemaphore(value: 0)

    /// Runs `process` from the spawner thread and waits until it has started.
    static func start(_ process: Process) throws {
        let request = Request(process)
        let startThread = pending.withLock { state -> Bool in
            state.requests.append(request)
            defer { state.started = true }
            return !state.started
        }
        if startThread {
            let thread = Thread {
                // Workers inherit this thread's signal mask. It was made from one of Swift's
                // pool threads, which block nearly every signal; a worker that blocks SIGTERM and
                // passes that on to what it starts would ignore a plain `kill`. Only SIGINT (the
                // command reads it) and SIGPIPE (a dead peer is an error, not an exit) stay blocked.
                var usual = sigset_t()
                sigemptyset(&usual)
                sigaddset(&usual, SIGINT)
                sigaddset(&usual, SIGPIPE)
                pthread_sigmask(SIG_SETMASK, &usual, nil)
                while true {
                    wake.wait()
                    guard let next = pending.withLock({ $0.requests.isEmpty ? nil : $0.requests.removeFirst() }) else { continue }
                    do { try next.process.run() } catch { next.failure = error }
                    next.done.signal()
                }
            }
            thread.name = "polybridge.worker-spawner"
            thread.start()
        }
        wake.signal()
        request.done.wait()
        if let failure = request.failure { throw failure }
    }
}

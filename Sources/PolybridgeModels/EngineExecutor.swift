import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeJobs
import PolybridgeRuntime
import Synchronization

/// A cluster engine a chunked fit can run on.
public enum ClusterEngine: String, Sendable, CaseIterable, Codable {
    /// Ray: one actor per worker, restarted by Ray when it dies.
    case ray
    /// Dask distributed: one worker plugin per worker; tasks retried by Dask.
    case dask
}

/// Runs chunk tasks on Ray or Dask through the engine's own Python API in the embedded
/// interpreter. Each engine worker owns a long-lived `polybridge worker` process (started by a
/// Ray actor or a Dask worker plugin, ending with it) and forwards the pool's JSON requests to
/// it, so R never runs in the engine's processes. Tasks carry row ranges of a file every node
/// can read (a path on a shared file system); only the request and the small result travel.
///
/// A worker process that dies mid-chunk makes the engine retry the chunk by its own mechanism
/// (Ray `max_restarts`/`max_task_retries`, Dask `retries`); it is counted once. An R error comes
/// back as an answer, is not retried and names the chunk.
public final class EngineExecutor: JobExecutor, ChunkExecutor, @unchecked Sendable {
    /// The engine.
    public let engine: ClusterEngine
    /// Seconds the engine took to start (or connect) with its workers' processes up.
    public private(set) var startupSeconds = 0.0
    private let state: PythonObject
    private let retries: Int
    private let timeout: Duration?
    private let stopped = Mutex(false)

    /// Starts a local cluster of `workers` workers (or connects to `address`), each with a warm
    /// `polybridge worker` process of `executable`. Throws a clear error when the engine is not
    /// installed or a worker process cannot start (naming the node). A call that takes longer
    /// than `timeout` fails (the engine's task is cancelled; the command then stops the engine).
    /// Without `verbose`, the engine's own log lines below ERROR (Ray's INFO and WARNING lines)
    /// stay out of the command's output.
    public init(engine: ClusterEngine, executable: URL, workers: Int, address: String? = nil, retries: Int = 2,
                timeout: Duration? = nil, verbose: Bool = false) throws {
        self.engine = engine
        self.retries = retries
        self.timeout = timeout
        let started = ContinuousClock.now
        do {
            let python = try PythonRuntime.shared()
            let module = try Self.module()
            _ = try python.call(try python.attribute("installed", of: module), [try python.object(engine.rawValue)])
            state = try python.call(try python.attribute("start", of: module), [
                try python.object(engine.rawValue), address.map { try python.object($0) } ?? python.evaluateObject("None"),
                try python.object(max(1, workers)), try python.object(executable.path), try python.object(try Self.packageBase()),
                try python.object(verbose)])
        } catch let error as PythonError {
            throw LinearModelError.engineUnavailable(engine: engine.rawValue, detail: Self.message(of: error))
        }
        startupSeconds = (ContinuousClock.now - started).seconds
    }

    deinit { shutdown() }

    /// ``init(engine:executable:workers:address:retries:)`` on a thread of its own: starting an
    /// engine blocks for seconds, which must not hold one of Swift's few pool threads.
    public static func start(engine: ClusterEngine, executable: URL, workers: Int, address: String? = nil,
                             retries: Int = 2, timeout: Duration? = nil, verbose: Bool = false) async throws -> EngineExecutor {
        try await runOnOwnThread {
            try EngineExecutor(engine: engine, executable: executable, workers: workers, address: address, retries: retries,
                               timeout: timeout, verbose: verbose)
        }
    }

    /// ``shutdown()`` on a thread of its own (stopping Ray takes seconds).
    public func stop() async {
        await runOnOwnThread { [self] in shutdown() }
    }

    /// Kills every local Ray head this process started, also one still starting: for Ctrl-C,
    /// which ends the command at once instead of stopping the engine in order.
    /// Touches no Python (a start in progress may hold its lock): the heads are recorded as
    /// files named by their process IDs.
    public static func abandonLocalClusters() {
        guard let base = folder.withLock({ $0 }) else { return }
        let heads = base + "/ray-heads"
        // Written before the folder is read: a head the start records after this reading
        // finds it and stops itself (a start in progress retries a head that died).
        try? FileManager.default.createDirectory(atPath: heads, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: heads + "/stop", contents: nil)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: heads)) ?? [] {
            guard let pid = Int32(name), pid > 1 else { continue }
            killpg(pid, SIGKILL)
            try? FileManager.default.removeItem(atPath: heads + "/" + name)
        }
    }

    /// Stops `executor` on Ctrl-C, or, before it has started, kills the local Ray heads started
    /// so far. A Ray driver is not shut down in order here: `ray.shutdown()` while other threads
    /// wait in `ray.get` ends the process from Ray's core worker (status 1) before the head is
    /// stopped. The local head's process group is killed instead (the actors and their workers
    /// with it; on a cluster Ray ends a driver's actors when the driver goes). Dask is stopped in
    /// order (its plugin unregistered).
    public static func stopForInterrupt(_ executor: EngineExecutor?) {
        if let executor, executor.engine == .dask { executor.shutdown() } else { abandonLocalClusters() }
    }

    /// Stops the local cluster (or disconnects) and its workers' processes.
    public func shutdown() {
        let already = stopped.withLock { flag -> Bool in
            defer { flag = true }
            return flag
        }
        if already { return }
        _ = try? method("stop", [])
        // Ray kills its actors without running their cleanup: the temporary folders of their
        // worker processes on this node are removed here once their owners are gone.
        ProcessFolders.removeAbandoned(in: ProcessFolders.temporaryBase, prefix: ProcessFolders.workersPrefix)
    }

    /// The request that kept each key a job kept in an engine worker, and the worker (a Ray
    /// actor's number, a Dask worker's address) that holds it.
    private let keys = Mutex<(recipes: [String: Data], holders: [String: String], rebuilds: Int)>(([:], [:], 0))

    /// How many times a worker rebuilt a key before a job (it did not hold it).
    public var rebuildCount: Int { keys.withLock { $0.rebuilds } }

    /// Runs `job` on an engine worker's `polybridge worker` process. A failure of the engine
    /// itself (a worker that died more often than the engine retries, a node problem) is a
    /// ``JobError`` with code ``JobError/Code/workerDied``, or ``JobError/Code/timedOut`` past the timeout.
    /// A job that uses a key (``Job/usesKey``) goes to the worker that holds it (Ray restarts a
    /// dead actor in its place; Dask runs it elsewhere when that worker is gone) and carries the
    /// request that kept the key, which a worker without the key runs first.
    public func run<J: Job>(_ job: J) async throws -> J.Output {
        let plain = try JobWire.request(job)
        let (recipe, holder) = keys.withLock { keys in
            (job.usesKey.flatMap { key in keys.recipes[key].map { (key: key, request: $0) } }, job.usesKey.flatMap { keys.holders[$0] })
        }
        let line = String(decoding: try recipe.map { try JobWire.request(job, rebuild: $0) } ?? plain, as: UTF8.self)
        let python = try PythonRuntime.shared()
        let answer = await submitAndWait(line, tables: nil, prefer: holder) { try python.value(of: $0) }
        let text: String, worker: String
        do {
            let (value, ranOn) = try answer.get()
            guard case .string(let returned) = value else { throw JobError(.failed, "the engine gave no answer") }
            (text, worker) = (returned, ranOn)
        } catch let error as PythonError {
            throw engineFailure(error)
        }
        let reply = Data(text.utf8)
        keys.withLock { keys in
            for key in JobWire.keptKeys(in: reply) {
                keys.recipes[key] = plain
                keys.holders[key] = worker
            }
            if let key = job.usesKey, keys.recipes[key] != nil { keys.holders[key] = worker }
            keys.rebuilds += JobWire.rebuiltKeys(in: reply).count
        }
        return try JobWire.output(of: J.self, from: reply)
    }

    /// Runs `task` on the engine; `data` must be a file every node can read.
    public func run(_ task: LinearModelChunkTask, data: ChunkData) async throws -> LinearModelChunkResult {
        guard case .file(let path, let identity) = data else {
            throw LinearModelError.wrongDataForExecutor(executor: "\(engine.rawValue) executor", needs: "a file every node can read (ChunkData.file)")
        }
        // A relative path means this process's folder; an engine worker's folder is another.
        let shared = path.contains("://") ? path : URL(fileURLWithPath: path).standardizedFileURL.path
        do {
            return try await run(LinearModelChunkJob(task: task, path: shared, identity: identity))
        } catch let error as JobError {
            throw LinearModelError.chunkFailed(task, message: error.message)
        }
    }

    /// Runs `job`, whose input names the Arrow IPC files of `tables` (a pipeline step), on an
    /// engine worker and returns the tables it produced.
    ///
    /// The job's input has `inputs`, a list of `{name, path}` entries, and an
    /// `outputDirectory`; the coordinator puts each table into the engine (Ray's object store,
    /// Dask's scatter: Arrow, never pickled pandas), and the engine worker writes them to Arrow
    /// IPC files in its node's shared memory, fills in their paths and the folder, and reads
    /// back the files the job's output (`{"outputs": {name: path}}`) names. A worker process
    /// that dies is retried by the engine; the job's own failure is thrown as its ``JobError``.
    public func run<J: Job>(_ job: J, tables: [String: ArrowTable]) async throws -> [String: ArrowTable] {
        let line = String(decoding: try JobWire.request(job), as: UTF8.self)
        let python = try PythonRuntime.shared()
        let answer = await submitAndWait(line, tables: tables) { returned -> Result<[String: ArrowTable], JobError> in
            let get = try python.attribute("get", of: returned)
            // The job's error, as the worker's JSON.
            if case .string(let failure) = try python.value(of: try python.call(get, [try python.object("failure")])) {
                return .failure((try? WorkerJSON.decoder().decode(JobError.self, from: Data(failure.utf8))) ?? JobError(.failed, failure))
            }
            let outputs = try python.call(get, [try python.object("outputs")])
            guard case .list(let names) = try python.value(of: try python.call(try python.evaluateObject("list"), [outputs])) else {
                return .failure(JobError(.failed, "the worker gave no answer"))
            }
            let table = try python.attribute("get", of: outputs)
            var produced: [String: ArrowTable] = [:]
            for case .string(let name) in names {
                produced[name] = try python.arrowTable(from: try python.call(table, [try python.object(name)]))
            }
            return .success(produced)
        }
        do {
            return try answer.get().0.get()
        } catch let error as PythonError {
            throw engineFailure(error)
        }
    }

    /// A failure the engine itself raised, as a job error.
    private func engineFailure(_ error: PythonError) -> JobError {
        let message = Self.message(of: error)
        return JobError(message.hasPrefix("timed out") ? .timedOut : .workerDied, "\(engine.rawValue): \(message)")
    }

    /// Submits `line` (a job request; with `tables`, one whose input names them, put into the
    /// engine) and waits for the engine's answer on
    /// a thread of its own (the wait blocks in Python, without the GIL; never on a pool
    /// thread); `read` turns the returned Python object into a Swift value while the GIL is held.
    /// Cancelling the calling task cancels the engine's task.
    private func submitAndWait<T: Sendable>(_ line: String, tables: [String: ArrowTable]?, prefer: String? = nil,
                                            read: @escaping @Sendable (PythonObject) throws -> T) async -> Result<(T, String), any Error> {
        // Submitting converts and uploads the tables (a copy or a network transfer) and waiting
        // blocks: both on a thread of their own, never on one of Swift's pool threads.
        let submitted = Mutex<(handle: PythonObject?, cancelled: Bool)>((nil, false))
        let answer: Result<(T, String), any Error> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread { [self] in
                    continuation.resume(returning: Result {
                        let python = try PythonRuntime.shared()
                        let names = tables?.keys.sorted() ?? []
                        let pyarrowTables = try names.map { try python.pyarrowTable(from: tables![$0]!) }
                        let list = try python.evaluateObject("lambda *items: list(items)")
                        let handle = try method("submit", [try python.object(line), try python.object(retries),
                                                           tables == nil ? try python.evaluateObject("None") : try python.object(names),
                                                           try python.call(list, pyarrowTables),
                                                           prefer.map { try python.object($0) } ?? python.evaluateObject("None")])
                        let cancelled = submitted.withLock { state -> Bool in
                            state.handle = handle
                            return state.cancelled
                        }
                        if cancelled { _ = try? call("cancel", [state, handle]) }
                        let value = try read(try method("wait", [handle, timeout.map { try python.object($0.seconds) } ?? python.evaluateObject("None")]))
                        guard case .string(let worker) = try python.value(of: try method("worker_of", [handle])) else { return (value, "") }
                        return (value, worker)
                    })
                }
            }
        } onCancel: { [self] in
            let handle = submitted.withLock { state -> PythonObject? in
                state.cancelled = true
                return state.handle
            }
            if let handle { _ = try? call("cancel", [state, handle]) }
        }
        if Task.isCancelled { return .failure(CancellationError()) }
        return answer
    }

    private func method(_ name: String, _ arguments: [PythonObject]) throws -> PythonObject {
        let python = try PythonRuntime.shared()
        return try python.call(try python.attribute(name, of: state), arguments)
    }

    private func call(_ function: String, _ arguments: [PythonObject]) throws -> PythonObject {
        let python = try PythonRuntime.shared()
        return try python.call(try python.attribute(function, of: try Self.module()), arguments)
    }

    private static let folder = Mutex<String?>(nil)

    /// The engine module, imported from a package folder written once per process (and zipped,
    /// the form Dask's `upload_file` takes): the engines ship files to their workers, not
    /// modules that exist only in this interpreter.
    static func packageBase() throws -> String {
        _ = try module()
        return folder.withLock { $0 ?? "" }
    }

    static func module() throws -> PythonObject {
        let python = try PythonRuntime.shared()
        let base = try folder.withLock { known -> String in
            if let known { return known }
            let base = try ProcessFolders.makeOwn(in: ProcessFolders.temporaryBase, prefix: "polybridge-engine-")
            let package = base + "/\(EnginePython.moduleName)"
            try FileManager.default.createDirectory(atPath: package, withIntermediateDirectories: true)
            try Data(EnginePython.source.utf8).write(to: URL(fileURLWithPath: package + "/__init__.py"))
            known = base
            return base
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let code = """
            import sys, os, zipfile
            _base = \(String(decoding: try encoder.encode(base), as: UTF8.self))
            if _base not in sys.path:
                sys.path.insert(0, _base)
            _zip = os.path.join(_base, "\(EnginePython.moduleName).zip")
            if not os.path.exists(_zip):
                with zipfile.ZipFile(_zip, "w") as _archive:
                    _archive.write(os.path.join(_base, "\(EnginePython.moduleName)", "__init__.py"), "\(EnginePython.moduleName)/__init__.py")
            """
        try python.exec(code)
        return try python.importModule(EnginePython.moduleName)
    }

    /// Python's message without the traceback's frames: its last line.
    static func message(of error: PythonError) -> String {
        // The engine module's own exceptions say all in their message.
        if case .exception(let type, let message, _) = error, type.hasSuffix("ChunkTimedOut") || type.hasSuffix("RayHeadFailed") { return message }
        if case .exception(let type, let message, _) = error { return "\(type): \(message)" }
        return error.description
    }
}

import CoreMetrics
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import PolybridgeJobs
import PolybridgeModels
import PolybridgeRuntime
import Prometheus
import ServiceLifecycle
import Synchronization

/// How `polybridge serve` serves: the models, the workers and the HTTP limits.
public struct ModelServerConfiguration: Sendable {
    /// The models by name, each an RDS file.
    public var models: [(name: String, path: String)]
    /// Warm R workers for R-object models.
    public var workers: Int = 2
    /// The address to bind.
    public var host = "127.0.0.1"
    /// The port (0: any free port, printed when the server runs).
    public var port = 8080
    /// When set, every endpoint but health needs `Authorization: Bearer <token>`.
    public var token: String?
    /// The largest request body accepted (larger: 413).
    public var maxBodyBytes = 16 << 20
    /// A request taking longer gets a 504 and its R job is interrupted.
    public var timeout: Duration = .seconds(30)
    /// The `polybridge` executable the workers run.
    public var executable: URL

    /// A configuration serving `models` with `executable`'s workers.
    public init(models: [(name: String, path: String)], executable: URL) {
        self.models = models
        self.executable = executable
    }
}

/// R models behind an HTTP server (Hummingbird on SwiftNIO): the Open Inference Protocol v2,
/// a simple JSON endpoint, and Prometheus metrics. Fits saved by `polybridge fit --save`
/// predict in Swift; other R models predict by R's `predict()` on warm worker processes.
public final class ModelServer: Sendable {
    private let configuration: ModelServerConfiguration
    /// The models now; a reload swaps one whole, so a request keeps the version it started with.
    private let models: Mutex<[String: ServedModel]>
    /// The copies of the model files that versions predict from (removed when the server ends).
    private let folder: String
    private let pool: ProcessPoolExecutor
    private let metrics: ServeMetrics
    private let deadlines: Deadlines
    /// The R jobs, one per worker at a time; requests that wait are sent together.
    private let batcher: PredictionBatcher

    /// Loads every model (an unusable one is an error naming it) and warms the workers.
    public init(_ configuration: ModelServerConfiguration) async throws {
        self.configuration = configuration
        let folder = try ProcessFolders.makeOwn(in: ProcessFolders.temporaryBase, prefix: "polybridge-serve-")
        self.folder = folder
        var models: [String: ServedModel] = [:]
        do {
            for (name, path) in configuration.models {
                guard models[name] == nil else { throw ServeError.badModelOption("the model name '\(name)' is given twice") }
                models[name] = try await ServedModel.load(name: name, source: path, version: 1, folder: folder)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        self.models = Mutex(models)
        let pool = ProcessPoolExecutor(executable: configuration.executable, workers: max(1, configuration.workers), timeout: nil)
        let deadlines = Deadlines(), metrics = ServeMetrics()
        self.pool = pool
        self.deadlines = deadlines
        self.metrics = metrics
        batcher = PredictionBatcher(slots: max(1, configuration.workers), timeout: configuration.timeout,
                                    sent: { metrics.job(requests: $0) }) { [timeout = configuration.timeout] job, deadline in
            try await Self.runOnWorker(job, deadline: deadline, pool: pool, deadlines: deadlines, timeout: timeout)
        }
        for model in models.values { metrics.loaded(model) }
        if models.values.contains(where: { $0.platform == "R" }) {
            do {
                try await pool.warmUp()
            } catch {
                pool.shutdown()
                try? FileManager.default.removeItem(atPath: folder)
                throw error
            }
        }
    }

    /// The model called `name` now.
    private func model(_ name: String) -> ServedModel? {
        models.withLock { $0[name] }
    }

    /// Reads the model called `name` again from its file, as a new version: requests that
    /// started before keep the old one to the end, later ones get the new one. A file that can
    /// no longer be served leaves the old version in place and throws why.
    @discardableResult
    public func reload(_ name: String) async throws -> ServedModel {
        guard let old = model(name) else { throw unknownModel(name) }
        let new = try await ServedModel.load(name: name, source: old.source, version: old.version + 1, folder: folder)
        models.withLock { $0[name] = new }
        metrics.loaded(new)
        return new
    }

    /// Serves until SIGTERM or SIGINT: then it stops accepting, finishes the requests in
    /// flight, stops the workers and returns. `onRunning` gets the bound port.
    public func run(onRunning: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let watching = Task { [deadlines] in await deadlines.run() }
        defer {
            watching.cancel()
            pool.shutdown()
            try? FileManager.default.removeItem(atPath: folder)
        }
        let router = Router()
        router.middlewares.add(TokenMiddleware(token: configuration.token))
        routes(router)
        let app = Application(router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                                   serverName: "polybridge"),
                              onServerRunning: { channel in onRunning(channel.localAddress?.port ?? 0) }, logger: Self.logger)
        // SIGTERM and Ctrl-C end it gracefully: no new connections, the requests in flight
        // finished, then the workers stopped.
        let group = ServiceGroup(configuration: .init(services: [app], logger: Self.logger))
        let drain: @Sendable () -> Void = { Task { await group.triggerGracefulShutdown() } }
        EndingSignals.takeOver(SIGTERM, drain)
        // SIGHUP reads every model file again.
        let names = models.withLock { Array($0.keys) }
        EndingSignals.takeOver(SIGHUP) { [self] in
            Task {
                for name in names {
                    do {
                        try await reload(name)
                    } catch {
                        FileHandle.standardError.write(Data("warning: model '\(name)' not reloaded: \(error)\n".utf8))
                    }
                }
            }
        }
        let interrupts = InterruptForwarder(onInterrupt: drain)
        defer {
            EndingSignals.release(SIGTERM)
            EndingSignals.release(SIGHUP)
            interrupts.stop()
        }
        try await group.run()
    }

    /// Warnings and errors only: the server says where it listens itself.
    private static let logger: Logger = {
        var logger = Logger(label: "polybridge.serve")
        logger.logLevel = .warning
        return logger
    }()

    private func routes(_ router: Router<BasicRequestContext>) {
        router.get("/v2/health/live") { _, _ in json(200, ["live": true]) }
        router.get("/v2/health/ready") { _, _ in json(200, ["ready": true]) }
        router.get("/v2/models/:name") { [self] _, context in
            try measured("metadata", context) { model in
                json(200, ["name": model.name, "versions": ["\(model.version)"], "platform": model.platform,
                           "inputs": model.inputs.map { ["name": $0.name, "datatype": $0.datatype, "shape": [-1]] },
                           "outputs": [["name": "predict", "datatype": "FP64", "shape": [-1]]]])
            }
        }
        router.get("/v2/models/:name/ready") { [self] _, context in
            try measured("ready", context) { model in json(200, ["name": model.name, "ready": true]) }
        }
        router.post("/v2/models/:name/infer") { [self] request, context in
            try await predicting("infer", request, context, parse: InferenceRequest.openInference) { model, request, prediction in
                var out = JSONWriter(capacity: 64 + 24 * prediction.fit.count)
                out.raw("{\"model_name\":")
                out.string(model.name)
                out.raw(",\"model_version\":")
                out.string("\(model.version)")
                out.raw(",\"outputs\":[")
                var outputs = [("predict", prediction.fit)]
                if let lower = prediction.lower, let upper = prediction.upper { outputs += [("lower", lower), ("upper", upper)] }
                for (index, (name, values)) in outputs.enumerated() {
                    if index > 0 { out.raw(",") }
                    out.raw("{\"name\":")
                    out.string(name)
                    out.raw(",\"shape\":[")
                    out.integer(values.count)
                    out.raw("],\"datatype\":\"FP64\",\"data\":")
                    out.numbers(values)
                    out.raw("}")
                }
                out.raw("]}")
                return out.bytes
            }
        }
        router.post("/v1/models/:name/predict") { [self] request, context in
            try await predicting("predict", request, context, parse: InferenceRequest.records) { _, _, prediction in
                var out = JSONWriter(capacity: 24 + 24 * prediction.fit.count)
                out.raw("{\"predictions\":")
                out.numbers(prediction.fit)
                if let lower = prediction.lower, let upper = prediction.upper {
                    out.raw(",\"lower\":")
                    out.numbers(lower)
                    out.raw(",\"upper\":")
                    out.numbers(upper)
                }
                out.raw("}")
                return out.bytes
            }
        }
        router.post("/v2/repository/models/:name/load") { [self] _, context in
            let name = context.parameters.get("name") ?? ""
            let response: Response
            do {
                let model = try await reload(name)
                response = json(200, ["name": name, "version": "\(model.version)", "load_seconds": model.loadSeconds])
            } catch let problem as RequestProblem {
                response = json(problem.status, ["error": problem.message])
            } catch {
                response = json(400, ["error": "\(error)"])
            }
            metrics.request(model: name, endpoint: "load", status: Int(response.status.code), seconds: 0)
            return response
        }
        router.get("/metrics") { [metrics, pool] _, _ in
            metrics.restarts(pool.replacedCount)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emit())))
        }
    }

    /// The 404 for a model name the server does not have, listing those it has.
    private func unknownModel(_ name: String) -> RequestProblem {
        RequestProblem(status: 404, message: "no model named '\(name)' (the models are \(models.withLock { $0.keys.sorted().joined(separator: ", ") }))")
    }

    /// Answers a request about one model (404 for an unknown name), counting it.
    private func measured(_ endpoint: String, _ context: BasicRequestContext, _ body: (ServedModel) throws -> Response) throws -> Response {
        let name = context.parameters.get("name") ?? ""
        guard let model = model(name) else {
            metrics.request(model: name, endpoint: endpoint, status: 404, seconds: 0)
            return json(404, ["error": unknownModel(name).message])
        }
        let response = try body(model)
        metrics.request(model: name, endpoint: endpoint, status: Int(response.status.code), seconds: 0)
        return response
    }

    /// A prediction request: the body read (413 over the limit) and parsed (400 for a bad
    /// one), the rows predicted by the model (in Swift or on a worker, 504 past the timeout),
    /// and the answer built by `answer`; every outcome is counted and timed.
    private func predicting(_ endpoint: String, _ request: Request, _ context: BasicRequestContext, parse: @escaping (Data) throws -> InferenceRequest,
                            answer: @escaping (ServedModel, InferenceRequest, ModelPrediction) -> [UInt8]) async throws -> Response {
        let started = ContinuousClock.now
        let name = context.parameters.get("name") ?? ""
        let response: Response
        do {
            guard let model = model(name) else {
                throw unknownModel(name)
            }
            if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBodyBytes {
                throw RequestProblem(status: 413, message: "the body of \(length) bytes is over the limit of \(configuration.maxBodyBytes) bytes")
            }
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
            } catch is NIOTooManyBytesError {
                throw RequestProblem(status: 413, message: "the body is over the limit of \(configuration.maxBodyBytes) bytes")
            }
            let arrowIn = request.headers[.contentType]?.hasPrefix(arrowStream) ?? false
            let arrowOut = arrowIn || (request.headers[.accept]?.contains(arrowStream) ?? false)
            var parsed = arrowIn ? try arrowRequest(buffer) : try parse(Data(buffer.readableBytesView))
            // Query parameters (?type=response&interval=confidence) where the body has none.
            parsed.type = parsed.type ?? request.uri.queryParameters.get("type")
            parsed.interval = parsed.interval ?? request.uri.queryParameters.get("interval")
            if parsed.interval == "none" { parsed.interval = nil }
            try parsed.check(against: model.inputs)
            let prediction = try await predict(model, parsed)
            metrics.predicted(model: name, rows: prediction.fit.count)
            response = arrowOut ? try arrowResponse(prediction)
                : Response(status: .ok, headers: [.contentType: "application/json"],
                           body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer(model, parsed, prediction))))
        } catch let problem as RequestProblem {
            response = json(problem.status, ["error": problem.message])
        }
        metrics.request(model: name, endpoint: endpoint, status: Int(response.status.code), seconds: (ContinuousClock.now - started).seconds)
        return response
    }

    /// The rows of an Arrow IPC stream body (numbers, text or factors, logicals).
    private func arrowRequest(_ buffer: ByteBuffer) throws -> InferenceRequest {
        let (names, columns) = try buffer.withUnsafeReadableBytes { try ArrowStreamBody.read($0) }
        var seen = Set<String>()
        if let name = names.first(where: { !seen.insert($0).inserted }) { throw RequestProblem.bad("the Arrow body has the column '\(name)' twice") }
        if Set(columns.map(\.count)).count > 1 { throw RequestProblem.bad("the Arrow body's columns have different lengths") }
        return InferenceRequest(names: names, columns: columns)
    }

    /// The predictions (and an interval's bounds) as an Arrow IPC stream body: the columns
    /// `predict`, then `lower` and `upper`.
    private func arrowResponse(_ prediction: ModelPrediction) throws -> Response {
        var columns = [(name: "predict", values: prediction.fit)]
        if let lower = prediction.lower, let upper = prediction.upper { columns += [("lower", lower), ("upper", upper)] }
        return Response(status: .ok, headers: [.contentType: arrowStream],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: ArrowStreamBody.write(columns))))
    }

    /// The model's predictions for the request's rows.
    private func predict(_ model: ServedModel, _ request: InferenceRequest) async throws -> ModelPrediction {
        switch model.kind {
        case .saved(let predictor):
            if let interval = request.interval {
                guard let kind = SavedFitPredictor.Interval(rawValue: interval) else {
                    throw RequestProblem.bad("parameters.interval '\(interval)' is not confidence or prediction")
                }
                do {
                    let out = try predictor.predict(try request.table(), interval: kind)
                    func optional(_ values: [Double]) -> [Double?] { values.map { $0.isNaN ? nil : $0 } }
                    return ModelPrediction(fit: optional(out.fit), lower: optional(out.lower), upper: optional(out.upper))
                } catch let error as LinearModelError {
                    throw RequestProblem.bad("parameters.interval: " + error.description.replacingOccurrences(of: "lm failed: ", with: ""))
                }
            }
            let type: SavedFit.PredictionType
            switch request.type {
            case nil, "response": type = .response
            case "link": type = .link
            default: throw RequestProblem.bad("parameters.type '\(request.type!)' is not response or link")
            }
            do {
                let values = try predictor.predict(try request.table(), type: type)
                return ModelPrediction(fit: values.map { $0.isNaN ? nil : $0 })
            } catch let error as LinearModelError {
                throw RequestProblem.bad(error.description.replacingOccurrences(of: "lm failed: ", with: ""))
            } catch let error as SavedFitPredictionError {
                // Rows of a group whose fit failed: the model cannot predict them (as an R error in predict).
                throw RequestProblem(status: 422, message: error.description)
            }
        case .rObject(let rowwise):
            let job = ModelPredictionJob(model: model.path, names: request.names, columns: request.columns, type: request.type,
                                         interval: request.interval)
            metrics.queued(1)
            defer { metrics.queued(-1) }
            return try await batcher.predict(job, rowwise: rowwise, deadline: ContinuousClock.now + configuration.timeout, deadlines: deadlines)
        }
    }

    /// Runs `job` on a worker: past `deadline` it is cancelled, which kills its worker (a new
    /// one replaces it), and answers 504. R's error is a 400 for a new factor level (the
    /// request's fault), else a 422; workers that cannot answer, a 503.
    private static func runOnWorker(_ job: ModelPredictionJob, deadline: ContinuousClock.Instant, pool: ProcessPoolExecutor,
                                    deadlines: Deadlines, timeout: Duration) async throws -> ModelPrediction {
        let task = Task { try await pool.run(job) }
        let watched = deadlines.watch(until: deadline) { task.cancel() }
        defer { deadlines.forget(watched) }
        do {
            return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        } catch is CancellationError where ContinuousClock.now >= deadline {
            throw RequestProblem(status: 504, message: "the prediction took longer than \(timeout); its R job was interrupted")
        } catch let error as JobError where error.code == .rError {
            if error.message.contains("has new level") { throw RequestProblem.bad(error.message) }
            throw RequestProblem(status: 422, message: error.message)
        } catch let error as JobError {
            throw RequestProblem(status: 503, message: "the workers could not predict: \(error.message)")
        }
    }
}

/// The media type of Arrow IPC stream bodies.
let arrowStream = "application/vnd.apache.arrow.stream"

/// The deadlines of the R jobs in flight, checked by one loop every 20 ms: a timer per request
/// would stay armed until its deadline even after the request ended, holding its memory.
final class Deadlines: Sendable {
    private let entries = Mutex<(next: Int, watched: [Int: (deadline: ContinuousClock.Instant, expire: @Sendable () -> Void)])>((0, [:]))

    /// Calls `expire` once `deadline` passes, unless forgotten first.
    func watch(until deadline: ContinuousClock.Instant, _ expire: @escaping @Sendable () -> Void) -> Int {
        entries.withLock { entries in
            entries.next += 1
            entries.watched[entries.next] = (deadline, expire)
            return entries.next
        }
    }

    /// Stops watching `id`.
    func forget(_ id: Int) {
        _ = entries.withLock { $0.watched.removeValue(forKey: id) }
    }

    /// Expires what is due, until cancelled.
    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
            let now = ContinuousClock.now
            let due = entries.withLock { entries -> [@Sendable () -> Void] in
                let ids = entries.watched.filter { $0.value.deadline <= now }.map(\.key)
                return ids.compactMap { entries.watched.removeValue(forKey: $0)?.expire }
            }
            for expire in due { expire() }
        }
    }
}

/// A JSON response.
func json(_ status: Int, _ object: [String: Any]) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    return Response(status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

/// With a token, every request but the health checks needs `Authorization: Bearer <token>`.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token, !request.uri.path.hasPrefix("/v2/health/") else { return try await next(request, context) }
        guard let given = request.headers[.authorization], given == "Bearer \(token)" else {
            return json(401, ["error": "this server needs the header Authorization: Bearer <token>"])
        }
        return try await next(request, context)
    }
}

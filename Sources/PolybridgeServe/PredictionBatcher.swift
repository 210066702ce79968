import Foundation
import PolybridgeModels
import Synchronization

/// The R predictions of the server, at most one job per worker at a time. A request that finds
/// every worker busy waits; when a worker is free, the requests waiting for the same model
/// version, `type`, `interval` and columns go to it as one job, if the model predicts each row
/// from that row alone (``ServedModel/Kind/rObject(rowwise:)``), and their predictions are split
/// back. So under load R's fixed cost per `predict()` call is shared. A job of several requests
/// that fails (one request's new factor level, say) runs its requests again one by one, so each
/// gets its own answer and R's message for its own rows.
final class PredictionBatcher: Sendable {
    /// What requests must share to be predicted in one job.
    struct Key: Hashable, Sendable {
        var model: String
        var type: String?
        var interval: String?
        var columns: [String]
        /// Set for a request that must go alone (its model is not row-wise).
        var alone: Int?
    }

    private struct Waiting: Sendable {
        let id: Int
        let job: ModelPredictionJob
        let deadline: ContinuousClock.Instant
        let reply: Reply
    }

    /// A request's answer, given once: by its job, or by its own deadline or cancellation,
    /// whichever comes first (a job of several requests runs on for the others).
    private final class Reply: Sendable {
        private let continuation: Mutex<CheckedContinuation<ModelPrediction, any Error>?>

        init(_ continuation: CheckedContinuation<ModelPrediction, any Error>) { self.continuation = Mutex(continuation) }

        func give(_ result: Result<ModelPrediction, any Error>) {
            continuation.withLock { $0.take() }?.resume(with: result)
        }

        /// Whether it has its answer (its deadline may have come first).
        var answered: Bool { continuation.withLock { $0 == nil } }
    }

    private struct State {
        var running = 0
        var nextID = 0
        var pending: [Key: [Waiting]] = [:]
        /// The keys with waiting requests, the longest waiting first.
        var order: [Key] = []
    }

    private let state = Mutex(State())
    /// How many jobs run at once: one per worker.
    private let slots: Int
    /// The most rows one job takes (a request larger than that goes alone).
    private let maxRows: Int
    /// Runs one job on a worker, by its deadline (throws ``RequestProblem`` for a request's fault,
    /// R's error, the timeout or the workers' failure).
    private let send: @Sendable (ModelPredictionJob, ContinuousClock.Instant) async throws -> ModelPrediction
    /// Told of each job sent, with how many requests it holds.
    private let sent: @Sendable (Int) -> Void

    /// The time a request may take, for its 504's message.
    private let timeout: Duration

    init(slots: Int, timeout: Duration, maxRows: Int = 100_000, sent: @escaping @Sendable (Int) -> Void = { _ in },
         send: @escaping @Sendable (ModelPredictionJob, ContinuousClock.Instant) async throws -> ModelPrediction) {
        (self.slots, self.timeout, self.maxRows, self.sent, self.send) = (max(1, slots), timeout, maxRows, sent, send)
    }

    /// The predictions for `job` once a worker has made them (alone, or with other requests'
    /// rows when `rowwise`). A request still waiting at `deadline` gets a 504.
    func predict(_ job: ModelPredictionJob, rowwise: Bool, deadline: ContinuousClock.Instant, deadlines: Deadlines) async throws -> ModelPrediction {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        let kinds = job.columns.map { column -> String in
            switch column {
            case .numbers: "n"
            case .texts: "t"
            case .logicals: "l"
            }
        }
        let key = Key(model: job.model, type: job.type, interval: job.interval, columns: zip(job.names, kinds).map { "\($0):\($1)" },
                      alone: rowwise ? nil : id)
        let replies = Mutex<Reply?>(nil)
        // At its deadline a request gets its 504, waiting or on a worker (where a job holding
        // only it is interrupted by its own deadline; one holding others runs on for them).
        let watched = deadlines.watch(until: deadline) { [self] in
            let waited = remove(id)
            replies.withLock { $0 }?.give(.failure(RequestProblem(status: 504, message: waited
                ? "the prediction waited longer than \(timeout) for a worker"
                : "the prediction took longer than \(timeout)")))
        }
        defer { deadlines.forget(watched) }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let reply = Reply(continuation)
                replies.withLock { $0 = reply }
                let batch = state.withLock { state -> [Waiting]? in
                    if state.pending[key] == nil { state.order.append(key) }
                    state.pending[key, default: []].append(Waiting(id: id, job: job, deadline: deadline, reply: reply))
                    guard state.running < slots else { return nil }
                    state.running += 1
                    return take(&state)
                }
                if let batch { launch(batch) }
            }
        } onCancel: {
            _ = remove(id)
            replies.withLock { $0 }?.give(.failure(CancellationError()))
        }
    }

    /// Takes request `id` out of the waiting ones; false when it was not waiting (it is on a
    /// worker, or answered).
    private func remove(_ id: Int) -> Bool {
        state.withLock { state -> Bool in
            for key in state.order {
                guard var waiting = state.pending[key], let index = waiting.firstIndex(where: { $0.id == id }) else { continue }
                waiting.remove(at: index)
                if waiting.isEmpty {
                    state.pending[key] = nil
                    state.order.removeAll { $0 == key }
                } else {
                    state.pending[key] = waiting
                }
                return true
            }
            return false
        }
    }

    /// The next job's requests: those of the longest-waiting key, up to `maxRows` rows (at
    /// least one request).
    private func take(_ state: inout State) -> [Waiting]? {
        guard let key = state.order.first, var waiting = state.pending[key], !waiting.isEmpty else { return nil }
        var count = 0, rows = 0
        while count < waiting.count {
            let size = waiting[count].job.columns.first?.count ?? 0
            if count > 0 && rows + size > maxRows { break }
            rows += size
            count += 1
        }
        let batch = Array(waiting.prefix(count))
        waiting.removeFirst(count)
        state.order.removeFirst()
        if waiting.isEmpty {
            state.pending[key] = nil
        } else {
            // The rest waits behind the other keys, so one busy model does not hold them back.
            state.pending[key] = waiting
            state.order.append(key)
        }
        return batch
    }

    /// Runs `batch` on a worker slot, then whatever waits, until nothing does.
    private func launch(_ batch: [Waiting]) {
        Task { [self] in
            var next: [Waiting]? = batch
            while let batch = next {
                await run(batch)
                next = state.withLock { state -> [Waiting]? in
                    if let batch = take(&state) { return batch }
                    state.running -= 1
                    return nil
                }
            }
        }
    }

    /// Predicts the requests of `batch` in one job and gives each its rows' predictions; when
    /// that fails for R's reasons, each request alone.
    private func run(_ batch: [Waiting]) async {
        // Requests answered already (by their deadline) are not predicted.
        let batch = batch.filter { !$0.reply.answered }
        guard !batch.isEmpty else { return }
        guard batch.count > 1 else {
            await runAlone(batch[0])
            return
        }
        let first = batch[0].job
        let columns = first.columns.indices.map { index in merge(batch.map { $0.job.columns[index] }) }
        let job = ModelPredictionJob(model: first.model, names: first.names, columns: columns, type: first.type, interval: first.interval)
        let sizes = batch.map { $0.job.columns.first?.count ?? 0 }
        do {
            sent(batch.count)
            // The job runs until the last of its requests' deadlines; each request gets its 504
            // at its own.
            let out = try await send(job, batch.map(\.deadline).max()!)
            let total = sizes.reduce(0, +)
            guard out.fit.count == total, out.lower.map({ $0.count == total }) ?? true, out.upper.map({ $0.count == total }) ?? true else {
                throw RequestProblem(status: 422, message: "predict gave \(out.fit.count) values for \(total) rows")
            }
            var start = 0
            for (waiting, size) in zip(batch, sizes) {
                let rows = start..<(start + size)
                start += size
                waiting.reply.give(.success(ModelPrediction(fit: Array(out.fit[rows]), lower: out.lower.map { Array($0[rows]) },
                                                            upper: out.upper.map { Array($0[rows]) })))
            }
        } catch let problem as RequestProblem where problem.status == 400 || problem.status == 422 {
            // One request's rows may be at fault: each gets its own answer.
            for waiting in batch { await runAlone(waiting) }
        } catch {
            for waiting in batch { waiting.reply.give(.failure(error)) }
        }
    }

    private func runAlone(_ waiting: Waiting) async {
        guard !waiting.reply.answered else { return }
        sent(1)
        do {
            waiting.reply.give(.success(try await send(waiting.job, waiting.deadline)))
        } catch {
            waiting.reply.give(.failure(error))
        }
    }

    /// The columns of several requests, one after another.
    private func merge(_ columns: [PredictionColumn]) -> PredictionColumn {
        var numbers: [Double?] = [], texts: [String?] = [], logicals: [Bool?] = []
        for column in columns {
            switch column {
            case .numbers(let values): numbers += values
            case .texts(let values): texts += values
            case .logicals(let values): logicals += values
            }
        }
        switch columns[0] {
        case .numbers: return .numbers(numbers)
        case .texts: return .texts(texts)
        case .logicals: return .logicals(logicals)
        }
    }
}

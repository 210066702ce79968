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
        let continuation: CheckedContinuation<ModelPrediction, any Error>
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

    init(slots: Int, maxRows: Int = 100_000, sent: @escaping @Sendable (Int) -> Void = { _ in },
         send: @escaping @Sendable (ModelPredictionJob, ContinuousClock.Instant) async throws -> ModelPrediction) {
        (self.slots, self.maxRows, self.sent, self.send) = (max(1, slots), maxRows, sent, send)
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
        let watched = deadlines.watch(until: deadline) { [self] in
            expire(id, RequestProblem(status: 504, message: "the prediction waited longer than the timeout for a worker"))
        }
        defer { deadlines.forget(watched) }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let batch = state.withLock { state -> [Waiting]? in
                    if state.pending[key] == nil { state.order.append(key) }
                    state.pending[key, default: []].append(Waiting(id: id, job: job, deadline: deadline, continuation: continuation))
                    guard state.running < slots else { return nil }
                    state.running += 1
                    return take(&state)
                }
                if let batch { launch(batch) }
            }
        } onCancel: {
            expire(id, CancellationError())
        }
    }

    /// Ends request `id` with `error` if it is still waiting (not yet on a worker).
    private func expire(_ id: Int, _ error: any Error) {
        let removed = state.withLock { state -> Waiting? in
            for key in state.order {
                guard var waiting = state.pending[key], let index = waiting.firstIndex(where: { $0.id == id }) else { continue }
                let removed = waiting.remove(at: index)
                if waiting.isEmpty {
                    state.pending[key] = nil
                    state.order.removeAll { $0 == key }
                } else {
                    state.pending[key] = waiting
                }
                return removed
            }
            return nil
        }
        removed?.continuation.resume(throwing: error)
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
        if waiting.isEmpty {
            state.pending[key] = nil
            state.order.removeFirst()
        } else {
            state.pending[key] = waiting
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
            let out = try await send(job, batch.map(\.deadline).min()!)
            let total = sizes.reduce(0, +)
            guard out.fit.count == total, out.lower.map({ $0.count == total }) ?? true, out.upper.map({ $0.count == total }) ?? true else {
                throw RequestProblem(status: 422, message: "predict gave \(out.fit.count) values for \(total) rows")
            }
            var start = 0
            for (waiting, size) in zip(batch, sizes) {
                let rows = start..<(start + size)
                start += size
                waiting.continuation.resume(returning: ModelPrediction(fit: Array(out.fit[rows]), lower: out.lower.map { Array($0[rows]) },
                                                                       upper: out.upper.map { Array($0[rows]) }))
            }
        } catch let problem as RequestProblem where problem.status == 400 || problem.status == 422 {
            // One request's rows may be at fault: each gets its own answer.
            for waiting in batch { await runAlone(waiting) }
        } catch {
            for waiting in batch { waiting.continuation.resume(throwing: error) }
        }
    }

    private func runAlone(_ waiting: Waiting) async {
        sent(1)
        do {
            waiting.continuation.resume(returning: try await send(waiting.job, waiting.deadline))
        } catch {
            waiting.continuation.resume(throwing: error)
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

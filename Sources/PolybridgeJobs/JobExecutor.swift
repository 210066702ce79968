import Foundation

/// Runs jobs somewhere: in this process, on a pool of worker processes, on Ray or on Dask.
/// The caller sees the same output or the same ``JobError`` wherever the job ran; cancelling
/// the calling task throws `CancellationError`.
public protocol JobExecutor: Sendable {
    /// Runs `job` and returns its output.
    func run<J: Job>(_ job: J) async throws -> J.Output
}

/// Runs jobs in this process through the same encode → run → decode path a worker takes, so
/// a job's wire format is tested without starting a process.
public struct InProcessJobExecutor: JobExecutor {
    private let registry: JobRegistry
    private let context = JobContext()

    /// An executor serving the kinds of `registry`.
    public init(registry: JobRegistry) {
        self.registry = registry
    }

    /// Encodes `job`, answers it as a worker would, and decodes the answer.
    public func run<J: Job>(_ job: J) async throws -> J.Output {
        try Task.checkCancellation()
        let answer = await registry.answer(try JobWire.request(job), context: context)
        return try JobWire.output(of: J.self, from: answer)
    }
}

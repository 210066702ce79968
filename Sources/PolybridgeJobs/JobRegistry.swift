import Foundation

/// The job kinds a worker serves, by name: what turns a request line into its answer line.
public struct JobRegistry: Sendable {
    private typealias Handler = @Sendable (Data, JobContext, [String]) async -> Data
    private let handlers: [String: Handler]

    /// A registry of `kinds` and ``WarmUpJob``, whose answer comes after `warmUp` has run (start
    /// R and Python there). A kind named twice is a programming error caught here.
    public init(_ kinds: [any Job.Type], warmUp: @escaping @Sendable () async throws -> Void = {}) {
        var handlers: [String: Handler] = [:]
        for kind in kinds {
            precondition(handlers[kind.kind] == nil && kind.kind != WarmUpJob.kind, "job kind \(kind.kind) registered twice")
            handlers[kind.kind] = Self.handler(for: kind)
        }
        handlers[WarmUpJob.kind] = { _, _, _ in
            do {
                try await warmUp()
                return JobWire.answer(true, error: nil)
            } catch {
                return JobWire.answer(Bool?.none, error: JobError(error))
            }
        }
        self.handlers = handlers
    }

    /// The kinds served.
    public var kinds: [String] { handlers.keys.sorted() }

    private static func handler<J: Job>(for type: J.Type) -> Handler {
        { line, context, rebuilt in
            let job: J
            do {
                job = try JobWire.job(J.self, from: line)
            } catch {
                return JobWire.answer(J.Output?.none, error: JobError(.badInput, "a malformed \(J.kind) request", cause: "\(error)"))
            }
            do {
                let output = try await job.run(in: context)
                return JobWire.answer(output, error: nil, kept: context.takeKept(), rebuilt: rebuilt)
            } catch {
                return JobWire.answer(J.Output?.none, error: JobError(error), kept: context.takeKept(), rebuilt: rebuilt)
            }
        }
    }

    /// The answer line to request `line` (never throws: a failure is an answer with an error).
    public func answer(_ line: Data, context: JobContext) async -> Data {
        let kind: String
        do {
            kind = try JobWire.kind(of: line)
        } catch {
            return JobWire.answer(Bool?.none, error: JobError(.badInput, "a request without a job kind", cause: "\(error)"))
        }
        guard let handler = handlers[kind] else {
            return JobWire.answer(Bool?.none, error: JobError(.badInput, "this worker serves no job of kind '\(kind)' (it serves \(kinds.joined(separator: ", ")))"))
        }
        _ = context.takeKept()
        // State the job uses that this worker does not hold: the job that kept it runs first.
        var rebuilt: [String] = []
        if let rebuild = JobWire.rebuild(in: line), !context.holds(rebuild.key) {
            let answer = await self.answer(rebuild.request, context: context)
            struct Failure: Decodable { var error: JobError? }
            if let error = try? WorkerJSON.decoder().decode(Failure.self, from: answer).error {
                return JobWire.answer(Bool?.none, error: JobError(error.code, "rebuilding the state this job needs, which its worker no longer held: \(error.message)",
                                                                  cause: "key \(rebuild.key)" + (error.cause.map { "; \($0)" } ?? "")))
            }
            _ = context.takeKept()
            rebuilt.append(rebuild.key)
        }
        return await handler(line, context, rebuilt)
    }
}

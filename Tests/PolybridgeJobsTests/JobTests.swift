import Foundation
import PolybridgeJobs
import Testing

/// A new kind of job is one type: this one squares a number, refuses a negative one, and keeps
/// a running total in the serving process's context.
struct SquareJob: Job {
    static let kind = "square"
    var x: Double

    func run(in context: JobContext) async throws -> Double {
        guard x >= 0 else { throw JobError(.badInput, "x must not be negative (got \(x))") }
        context.setValue((context.value(forKey: "total", as: Double.self) ?? 0) + x * x, forKey: "total")
        return x * x
    }
}

/// A job whose work fails with an error of its own type.
struct FailingJob: Job {
    struct Broken: Error, CustomStringConvertible { var description: String { "broken on purpose" } }
    static let kind = "failing"
    func run(in context: JobContext) async throws -> Int { throw Broken() }
}

@Suite struct JobTests {
    let registry = JobRegistry([SquareJob.self, FailingJob.self])

    @Test func aJobRunsThroughItsWireFormatInProcess() async throws {
        let executor = InProcessJobExecutor(registry: registry)
        #expect(try await executor.run(SquareJob(x: 3)) == 9)
        #expect(try await executor.run(SquareJob(x: .infinity)) == .infinity)  // spelled Inf on the wire
    }

    @Test func theRequestLineIsTheKindAndTheJobsOwnFields() throws {
        let line = try JobWire.request(SquareJob(x: 2.5))
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        #expect(object["kind"] as? String == "square")
        #expect((object["input"] as? [String: Any])?["x"] as? Double == 2.5)
    }

    @Test func aJobsOwnErrorComesBackWithItsCodeAndMessage() async throws {
        let executor = InProcessJobExecutor(registry: registry)
        let refused = await #expect(throws: JobError.self) { try await executor.run(SquareJob(x: -1)) }
        #expect(refused == JobError(.badInput, "x must not be negative (got -1.0)"))
        let failed = await #expect(throws: JobError.self) { try await executor.run(FailingJob()) }
        #expect(failed?.code == .failed && failed?.message == "broken on purpose")
    }

    @Test func anUnknownKindOrAMalformedRequestIsABadInputAnswer() async throws {
        let context = JobContext()
        let unknown = await registry.answer(Data(#"{"kind": "cube", "input": {"x": 2}}"#.utf8), context: context)
        #expect(throws: JobError(.badInput, "this worker serves no job of kind 'cube' (it serves failing, square, warm-up)")) {
            try JobWire.output(of: SquareJob.self, from: unknown)
        }
        let malformed = await registry.answer(Data(#"{"kind": "square", "input": {"y": 2}}"#.utf8), context: context)
        let error = #expect(throws: JobError.self) { try JobWire.output(of: SquareJob.self, from: malformed) }
        #expect(error?.code == .badInput && error?.message == "a malformed square request")
    }

    @Test func jobsServedByOneContextShareItsValues() async throws {
        let executor = InProcessJobExecutor(registry: registry)
        _ = try await executor.run(SquareJob(x: 1))
        _ = try await executor.run(SquareJob(x: 2))
        let context = JobContext()
        let answer = await registry.answer(try JobWire.request(SquareJob(x: 3)), context: context)
        #expect(try JobWire.output(of: SquareJob.self, from: answer) == 9)
        #expect(context.value(forKey: "total", as: Double.self) == 9)
    }

    @Test func aWarmUpRunsTheRegistrysWarmUpWork() async throws {
        let ran = WarmUpFlag()
        let warming = JobRegistry([SquareJob.self]) { ran.set() }
        #expect(try await InProcessJobExecutor(registry: warming).run(WarmUpJob()))
        #expect(ran.isSet)
    }
}

/// Whether a warm-up ran.
final class WarmUpFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

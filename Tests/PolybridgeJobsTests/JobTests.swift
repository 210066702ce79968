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

/// Keeps a value in its worker; `ReadKeptJob` reads it there.
struct KeepJob: Job {
    static let kind = "keep"
    var key: String
    var value: Double
    func run(in context: JobContext) async throws -> Bool {
        context.keep(value, forKey: key)
        return true
    }
}

/// Reads the value `KeepJob` kept under `key`.
struct ReadKeptJob: Job {
    static let kind = "read-kept"
    var key: String
    var usesKey: String? { key }
    func run(in context: JobContext) async throws -> Double {
        guard let value = context.value(forKey: key, as: Double.self) else { throw JobError(.stateMissing, "no value under \(key)") }
        return value
    }
}

/// A job whose work fails with an error of its own type.
struct FailingJob: Job {
    struct Broken: Error, CustomStringConvertible { var description: String { "broken on purpose" } }
    static let kind = "failing"
    func run(in context: JobContext) async throws -> Int { throw Broken() }
}

@Suite struct JobTests {
    let registry = JobRegistry([SquareJob.self, FailingJob.self, KeepJob.self, ReadKeptJob.self])

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
        #expect(throws: JobError(.badInput, "this worker serves no job of kind 'cube' (it serves failing, keep, read-kept, square, warm-up)")) {
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

    /// A job's answer names the keys it kept; a request that carries the request which kept its
    /// key has a worker without the key run that first (a worker that holds it does not).
    @Test func aKeyAWorkerDoesNotHoldIsRebuiltFromTheRequestThatKeptIt() async throws {
        let keep = try JobWire.request(KeepJob(key: "m", value: 4.5))
        let holder = JobContext()
        let kept = await registry.answer(keep, context: holder)
        #expect(JobWire.keptKeys(in: kept) == ["m"])
        let read = ReadKeptJob(key: "m")
        #expect(try JobWire.output(of: ReadKeptJob.self, from: await registry.answer(try JobWire.request(read), context: holder)) == 4.5)
        // Another worker: without the recipe the state is missing; with it, rebuilt first.
        let other = JobContext()
        let missing = await registry.answer(try JobWire.request(read), context: other)
        #expect(throws: JobError(.stateMissing, "no value under m")) { try JobWire.output(of: ReadKeptJob.self, from: missing) }
        let rebuilt = await registry.answer(try JobWire.request(read, rebuild: ("m", keep)), context: other)
        #expect(try JobWire.output(of: ReadKeptJob.self, from: rebuilt) == 4.5)
        #expect(JobWire.rebuiltKeys(in: rebuilt) == ["m"] && other.holds("m"))
        // The holder is not sent through the recipe again: its value stays as it is.
        holder.keep(7.0, forKey: "m")
        let held = await registry.answer(try JobWire.request(read, rebuild: ("m", keep)), context: holder)
        #expect(try JobWire.output(of: ReadKeptJob.self, from: held) == 7 && JobWire.rebuiltKeys(in: held).isEmpty)
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

/// A request carried inside another (a rebuild recipe) comes out byte for byte in meaning:
/// 64-bit integers above 2^53 (a hash, a time in nanoseconds) and non-finite numbers included.
@Suite struct RecipeFidelityTests {
    struct Wide: Job {
        static let kind = "wide"
        var hash: UInt64
        var time: Int64
        var ratio: Double
        var missing: Double
        var name: String
        func run(in context: JobContext) async throws -> Wide { self }
    }

    struct Carrier: Job {
        static let kind = "carrier"
        var usesKey: String? { "k" }
        func run(in context: JobContext) async throws -> Bool { true }
    }

    @Test func aRecipeKeepsEveryNumberExactly() async throws {
        let wide = Wide(hash: UInt64.max - 12_345, time: 1_796_469_675_143_393_043, ratio: 0.1 + 0.2, missing: .nan, name: "é\u{1f}")
        let recipe = try JobWire.request(wide)
        let line = try JobWire.request(Carrier(), rebuild: ("k", recipe))
        let registry = JobRegistry([Wide.self, Carrier.self])
        // A worker without the key runs the carried recipe, then the job.
        #expect(try JobWire.output(of: Carrier.self, from: await registry.answer(line, context: JobContext())))
        let viaRecipe = try WorkerJSON.decoder().decode(RecipeEnvelope.self, from: line).rebuild.request
        #expect(viaRecipe.input.hash == wide.hash && viaRecipe.input.time == wide.time && viaRecipe.input.ratio == wide.ratio)
        #expect(viaRecipe.input.missing.isNaN && viaRecipe.input.name == wide.name)
    }

    struct RecipeEnvelope: Decodable {
        struct Rebuild: Decodable { var key: String; var request: Request }
        struct Request: Decodable { var kind: String; var input: Wide }
        var rebuild: Rebuild
    }
}

/// The worker protocol's JSON carries every double bit for bit (chunk results, coefficients):
/// random bit patterns, subnormals, the extremes and the non-finite spellings.
@Suite struct WireNumberTests {
    @Test func doublesCrossTheWireExactly() throws {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, .infinity, -.infinity, 0.1, 1 / 3]
        for _ in 0..<20_000 {
            let value = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
            if !value.isNaN { values.append(value) }
        }
        let line = try WorkerJSON.encoder().encode(values)
        let back = try WorkerJSON.decoder().decode([Double].self, from: line)
        #expect(back.count == values.count)
        let wrong = zip(back, values).filter { $0.bitPattern != $1.bitPattern }
        #expect(wrong.isEmpty, "\(wrong.count) differ, e.g. \(wrong.prefix(3))")
        let nan = try WorkerJSON.decoder().decode([Double].self, from: try WorkerJSON.encoder().encode([Double.nan]))
        #expect(nan.count == 1 && nan[0].isNaN)
    }
}

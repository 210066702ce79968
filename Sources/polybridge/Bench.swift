import ArgumentParser
import Foundation
import Polybridge

/// `polybridge bench`: in-process benchmarks whose figures the README quotes.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run in-process benchmarks (used by `make bench-runtime` and `make bench-convert`).",
        subcommands: [RuntimeBench.self, ConvertBench.self])
}

/// Latency of trivial R calls made from Swift tasks.
struct RuntimeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runtime",
        abstract: "Median round-trip latency of trivial R calls from a Swift task.")

    @Option(help: "Calls per measurement.")
    var calls = 20_000

    func run() async throws {
        let r = try RRuntime.shared()
        _ = try PythonRuntime.shared()
        print("round trip of a trivial R call from a Swift task (\(calls) calls each, both runtimes up):")
        try await report("thread hop + R C API (withSession: make and read 1L)") {
            _ = try await r.withSession { session in try session.read(try session.make(.integer([1]))) }
        }
        try await report("r.call(\"identity\", 1) (guarded, warnings caught, typed)") {
            _ = try await r.call("identity", 1.0)
        }
        try await report("r.evaluate(\"1L\") (parse + eval + typed result)") {
            _ = try await r.evaluate("1L")
        }
    }

    private func report(_ label: String, _ body: () async throws -> Void) async throws {
        for _ in 0..<500 { try await body() }
        var samples: [Double] = []
        samples.reserveCapacity(calls)
        for _ in 0..<calls {
            let start = ContinuousClock.now
            try await body()
            samples.append((ContinuousClock.now - start).seconds * 1e6)
        }
        samples.sort()
        let median = samples[samples.count / 2], p90 = samples[samples.count * 9 / 10]
        print(String(format: "  %-58@ median %6.1f µs   p90 %6.1f µs", label as NSString, median, p90))
    }
}

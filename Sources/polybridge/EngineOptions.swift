import ArgumentParser
import Foundation
import Polybridge

/// The options `fit` and `run` share for where their work runs: this machine, Ray or Dask.
struct EngineOptions: ParsableArguments {
    @Option(help: "Where the work runs: local (this machine's processes), ray or dask.")
    var executor: ExecutorKind = .local

    @Option(help: "The address of an existing Ray or Dask cluster (without it a local cluster is started and stopped).")
    var address: String?

    @Option(name: .customLong("worker-binary"), help: "The polybridge executable on the engine's nodes (default: this one's path).")
    var workerBinary: String?

    @Flag(help: "Let the engine (--executor ray) print its own INFO and WARNING log lines.")
    var verbose = false

    func validate() throws {
        if address != nil && executor == .local { throw ValidationError("--address applies to --executor ray or dask") }
        if workerBinary != nil && executor == .local { throw ValidationError("--worker-binary applies to --executor ray or dask") }
    }

    /// Ray or Dask, when asked for.
    var engine: ClusterEngine? { ClusterEngine(rawValue: executor.rawValue) }

    /// The `polybridge` binary the engine's nodes run, resolved against the current folder now;
    /// a missing or unusable one is an error before a local cluster starts.
    func nodeBinary() throws -> URL {
        let binary = workerBinary.map { URL(fileURLWithPath: $0).standardizedFileURL } ?? CurrentExecutable.url
        try OptionChecks.checkWorkerBinary(workerBinary == nil ? nil : binary.path, address: address)
        return binary
    }
}

/// Where `fit --workers` and `run` send their work.
enum ExecutorKind: String, ExpressibleByArgument, CaseIterable {
    case local, ray, dask
}

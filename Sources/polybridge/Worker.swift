import ArgumentParser
import Polybridge

/// `polybridge worker`: a warm worker of a process pool or of an engine (Ray, Dask). Serves
/// ``WorkerJobs/registry`` over standard input and output (``JobServer``).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Serve jobs on stdin/stdout (used by the worker pool and the engines).", shouldDisplay: false)

    func run() async throws {
        guard await JobServer.serve(WorkerJobs.registry) else { throw ExitCode(1) }
    }
}

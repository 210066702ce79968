import ArgumentParser
import Foundation
import Polybridge
import PolybridgeServe

/// `polybridge serve`: R models behind an HTTP server (the Open Inference Protocol v2, a JSON
/// endpoint and Prometheus metrics), with warm R workers.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve R models over HTTP: the Open Inference Protocol v2, POST /v1/models/NAME/predict and /metrics.")

    @Option(name: .customLong("model"), parsing: .singleValue,
            help: "NAME=PATH: an RDS file holding an R model with a predict method, or a fit saved by polybridge fit --save (repeat for more).")
    var models: [String] = []

    @Option(help: "Warm R worker processes for R-object models.")
    var workers = 2

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port; the port is printed).")
    var port = 8080

    @Option(name: .customLong("token-file"), help: "A file holding a token: every endpoint but health then needs Authorization: Bearer <token>.")
    var tokenFile: String?

    @Option(name: .customLong("max-body-bytes"), help: "The largest request body accepted; a larger one gets 413.")
    var maxBodyBytes = 16 << 20

    @Option(help: "Seconds a prediction may take; a slower one gets 504 and its R job is interrupted.")
    var timeout: Double = 30

    func validate() throws {
        if models.isEmpty { throw ValidationError("give at least one --model NAME=PATH") }
        for model in models where !model.contains("=") || model.hasPrefix("=") || model.hasSuffix("=") {
            throw ValidationError("--model takes NAME=PATH (got '\(model)')")
        }
        try OptionChecks.count(workers, "--workers")
        try OptionChecks.count(maxBodyBytes, "--max-body-bytes")
        try OptionChecks.seconds(timeout, "--timeout")
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535 (got \(port))") }
    }

    func run() async throws {
        do {
            var configuration = ModelServerConfiguration(models: models.map { model in
                let parts = model.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), String(parts[1]))
            }, executable: CurrentExecutable.url)
            configuration.workers = workers
            configuration.host = host
            configuration.port = port
            configuration.maxBodyBytes = maxBodyBytes
            configuration.timeout = .milliseconds(Int64(timeout * 1000))
            if let tokenFile {
                guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                    throw ServeError.badTokenFile(path: tokenFile, detail: "it cannot be read")
                }
                let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !token.isEmpty else { throw ServeError.badTokenFile(path: tokenFile, detail: "it is empty") }
                configuration.token = token
            }
            let server = try await ModelServer(configuration)
            let host = self.host
            try await server.run { port in
                FileHandle.standardOutput.write(Data("listening on http://\(host):\(port)\n".utf8))
            }
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

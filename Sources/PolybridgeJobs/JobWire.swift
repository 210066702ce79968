import Foundation

/// JSON for the worker protocol, the same on both sides of the pipe: non-finite numbers (an
/// average fit's NaN p-values, a parameter of .inf) are spelled Inf, -Inf and NaN.
public enum WorkerJSON {
    /// An encoder for requests and answers.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Inf", negativeInfinity: "-Inf", nan: "NaN")
        return encoder
    }

    /// A decoder for requests and answers.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Inf", negativeInfinity: "-Inf", nan: "NaN")
        return decoder
    }
}

/// The lines of the worker protocol: a request is `{"kind": K, "input": {...}}` (the job's own
/// fields), an answer `{"output": ...}` or `{"error": {"code", "message", "cause"}}`, one JSON
/// object per line. An empty line from a worker is its heartbeat.
public enum JobWire {
    struct Request<J: Job>: Codable {
        var kind: String
        var input: J
        /// The request that kept the state this job uses, to run first where it is not held.
        var rebuild: Rebuild?
    }

    /// How to rebuild a key: the request whose job kept it.
    struct Rebuild: Codable {
        var key: String
        var request: JSONValue
    }

    struct Kind: Decodable {
        var kind: String
    }

    struct RebuildOnly: Decodable {
        var rebuild: Rebuild?
    }

    struct Answer<Output: Codable>: Codable {
        var output: Output?
        var error: JobError?
        /// The keys the job kept in its worker (``JobContext/keep(_:forKey:)``).
        var kept: [String]?
        /// The key the worker rebuilt first (it did not hold it), if any.
        var rebuilt: [String]?
    }

    struct KeysOnly: Decodable {
        var kept: [String]?
        var rebuilt: [String]?
    }

    /// The request line for `job`, without its newline. With `rebuild`, the line also carries
    /// the request (a line this function made) that kept the key the job uses, for a worker
    /// that does not hold it to run first.
    public static func request<J: Job>(_ job: J, rebuild: (key: String, request: Data)? = nil) throws -> Data {
        let recipe = try rebuild.map { Rebuild(key: $0.key, request: try WorkerJSON.decoder().decode(JSONValue.self, from: $0.request)) }
        return try WorkerJSON.encoder().encode(Request(kind: J.kind, input: job, rebuild: recipe))
    }

    /// The keys an answer line says its job kept in the worker.
    public static func keptKeys(in answer: Data) -> [String] {
        (try? WorkerJSON.decoder().decode(KeysOnly.self, from: answer).kept) ?? []
    }

    /// The keys an answer line says the worker rebuilt before the job (it did not hold them).
    public static func rebuiltKeys(in answer: Data) -> [String] {
        (try? WorkerJSON.decoder().decode(KeysOnly.self, from: answer).rebuilt) ?? []
    }

    /// The rebuild a request line carries: the key and the request that keeps it.
    static func rebuild(in line: Data) -> (key: String, request: Data)? {
        guard let rebuild = try? WorkerJSON.decoder().decode(RebuildOnly.self, from: line).rebuild,
              let request = try? WorkerJSON.encoder().encode(rebuild.request) else { return nil }
        return (rebuild.key, request)
    }

    /// The kind a request line names.
    static func kind(of line: Data) throws -> String {
        try WorkerJSON.decoder().decode(Kind.self, from: line).kind
    }

    /// The job a request line holds.
    static func job<J: Job>(_ type: J.Type, from line: Data) throws -> J {
        try WorkerJSON.decoder().decode(Request<J>.self, from: line).input
    }

    /// The answer line for `output`, or for `error` when the job failed, with the keys the job kept.
    static func answer<Output: Codable>(_ output: Output?, error: JobError?, kept: [String] = [], rebuilt: [String] = []) -> Data {
        let answer = Answer(output: output, error: error, kept: kept.isEmpty ? nil : kept, rebuilt: rebuilt.isEmpty ? nil : rebuilt)
        if let line = try? WorkerJSON.encoder().encode(answer) { return line }
        // An output that cannot be encoded (a NaN in a place without a spelling) is itself a failure.
        let failure = JobError(.failed, "the job's output could not be encoded as JSON")
        return (try? WorkerJSON.encoder().encode(Answer<Output>(output: nil, error: failure))) ?? Data("{}".utf8)
    }

    /// The output an answer line carries for a job of type `J`; throws the job's ``JobError``
    /// when it failed.
    public static func output<J: Job>(of type: J.Type, from line: Data) throws -> J.Output {
        let answer: Answer<J.Output>
        do {
            answer = try WorkerJSON.decoder().decode(Answer<J.Output>.self, from: line)
        } catch {
            throw JobError(.failed, "the worker's answer to a \(J.kind) job is malformed", cause: "\(error)")
        }
        if let error = answer.error { throw error }
        guard let output = answer.output else { throw JobError(.failed, "the worker gave no answer to a \(J.kind) job") }
        return output
    }
}

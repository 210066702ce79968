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
    }

    struct Kind: Decodable {
        var kind: String
    }

    struct Answer<Output: Codable>: Codable {
        var output: Output?
        var error: JobError?
    }

    /// The request line for `job`, without its newline.
    public static func request<J: Job>(_ job: J) throws -> Data {
        try WorkerJSON.encoder().encode(Request(kind: J.kind, input: job))
    }

    /// The kind a request line names.
    static func kind(of line: Data) throws -> String {
        try WorkerJSON.decoder().decode(Kind.self, from: line).kind
    }

    /// The job a request line holds.
    static func job<J: Job>(_ type: J.Type, from line: Data) throws -> J {
        try WorkerJSON.decoder().decode(Request<J>.self, from: line).input
    }

    /// The answer line for `output`, or for `error` when the job failed.
    static func answer<Output: Codable>(_ output: Output?, error: JobError?) -> Data {
        if let line = try? WorkerJSON.encoder().encode(Answer(output: output, error: error)) { return line }
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

import Foundation
import Synchronization

/// A unit of work that can run in this process, in a `polybridge worker` process or on a Ray
/// or Dask worker: a kind name, the job's own fields as its Codable input, and a Codable
/// output. A new kind is one type conforming to `Job`, registered in the worker's
/// ``JobRegistry``.
///
/// ```swift
/// struct Square: Job {
///     static let kind = "square"
///     var x: Double
///     func run(in context: JobContext) async throws -> Double { x * x }
/// }
/// ```
public protocol Job: Codable, Sendable {
    /// What the job returns; it travels back as JSON.
    associatedtype Output: Codable & Sendable

    /// The name requests carry to say which kind of job they hold (unique in a registry).
    static var kind: String { get }

    /// What a person calls one job of this kind in a message ("chunk", "step"); "job" by default.
    static var noun: String { get }

    /// The worker state this job reads, if any: a key an earlier job kept a value under
    /// (``JobContext/keep(_:forKey:)``). An executor sends the job to the worker that holds the
    /// key; where that worker is gone, it has the job that kept the key run again first, on the
    /// worker that gets this one, so the caller sees the same answer. Nil by default.
    var usesKey: String? { get }

    /// Does the work, in the process that serves the job. An error that is not a ``JobError``
    /// reaches the caller as one with code ``JobError/Code/failed`` (``JobError/init(_:)``).
    func run(in context: JobContext) async throws -> Output
}

extension Job {
    /// "job".
    public static var noun: String { "job" }

    /// No worker state.
    public var usesKey: String? { nil }
}

/// What a job sees of the process serving it: values that earlier jobs kept there under a
/// key (a data file read whole, a chunk's model matrix), so later jobs need not rebuild them.
public final class JobContext: Sendable {
    private let values = Mutex<[String: any Sendable]>([:])
    /// The keys kept by the job running now; its answer reports them to the executor.
    private let keptNow = Mutex<[String]>([])

    /// An empty context.
    public init() {}

    /// The value kept under `key`, if it has type `T`.
    public func value<T: Sendable>(forKey key: String, as type: T.Type = T.self) -> T? {
        values.withLock { $0[key] as? T }
    }

    /// Keeps `value` under `key` (nil removes it).
    public func setValue(_ value: (any Sendable)?, forKey key: String) {
        values.withLock { $0[key] = value }
    }

    /// Keeps `value` under `key` for later jobs and reports the key to the executor with this
    /// job's answer, so that jobs naming the key (``Job/usesKey``) are sent to this worker.
    public func keep(_ value: any Sendable, forKey key: String) {
        values.withLock { $0[key] = value }
        keptNow.withLock { if !$0.contains(key) { $0.append(key) } }
    }

    /// Whether a value is kept under `key`.
    public func holds(_ key: String) -> Bool {
        values.withLock { $0[key] != nil }
    }

    /// The keys kept since the last call (the job that just ran).
    func takeKept() -> [String] {
        keptNow.withLock { kept in defer { kept = [] }; return kept }
    }

    /// Removes every value whose key does not satisfy `keep`.
    public func removeValues(where remove: (String) -> Bool) {
        values.withLock { values in for key in values.keys where remove(key) { values[key] = nil } }
    }
}

/// Warms a worker up: R and Python start now, so the first real job does not pay for them.
/// The work is given by the registry's owner (``JobRegistry/init(_:warmUp:)``).
public struct WarmUpJob: Job {
    /// `warm-up`.
    public static let kind = "warm-up"

    /// A warm-up request.
    public init() {}

    /// Done by ``JobRegistry``, which runs its warm-up closure instead.
    public func run(in context: JobContext) async throws -> Bool { true }
}

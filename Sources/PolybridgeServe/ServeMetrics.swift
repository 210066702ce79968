import CoreMetrics
import Foundation
import Metrics
import Prometheus

/// The server's metrics, recorded through swift-metrics into a Prometheus registry of its own
/// and written at `GET /metrics` in Prometheus' text format: requests by model, endpoint and
/// status; request latency (a histogram); rows predicted; the queue of R jobs; the R jobs sent
/// to workers and the requests they held; worker restarts; each model's load time.
final class ServeMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let queue: Meter

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                                   .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                                   .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)]
        self.factory = factory
        queue = Meter(label: "polybridge_queue_depth", factory: factory)
        queue.set(0)
    }

    /// One request answered.
    func request(model: String, endpoint: String, status: Int, seconds: Double) {
        Counter(label: "polybridge_requests_total", dimensions: [("model", model), ("endpoint", endpoint), ("status", "\(status)")],
                factory: factory).increment()
        if seconds > 0 {
            Metrics.Timer(label: "polybridge_request_duration_seconds", dimensions: [("model", model), ("endpoint", endpoint)], factory: factory)
                .recordNanoseconds(Int64(seconds * 1e9))
        }
    }

    /// Rows predicted by `model`.
    func predicted(model: String, rows: Int) {
        Counter(label: "polybridge_rows_predicted_total", dimensions: [("model", model)], factory: factory).increment(by: rows)
    }

    /// R jobs waiting or running: +1 when one is sent, -1 when it is answered.
    func queued(_ change: Int) {
        if change > 0 { queue.increment(by: Double(change)) } else { queue.decrement(by: Double(-change)) }
    }

    /// One R job sent to a worker, holding `requests` requests' rows.
    func job(requests: Int) {
        Counter(label: "polybridge_worker_jobs_total", factory: factory).increment()
        Counter(label: "polybridge_worker_job_requests_total", factory: factory).increment(by: requests)
    }

    /// Worker processes replaced (killed, or silent for too long).
    func restarts(_ count: Int) {
        Gauge(label: "polybridge_worker_restarts", factory: factory).record(count)
    }

    /// A model loaded.
    func loaded(_ model: ServedModel) {
        Gauge(label: "polybridge_model_load_seconds", dimensions: [("model", model.name)], factory: factory).record(model.loadSeconds)
    }

    /// The metrics in Prometheus' text format.
    func emit() -> [UInt8] {
        registry.emitToBuffer()
    }
}

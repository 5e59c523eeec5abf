internal import Metrics
public import Prometheus
internal import Synchronization

/// The Prometheus side of ``OrcaMetrics``: a registry, the swift-metrics factory writing into it, and the text
/// exposition for `GET /metrics`.
///
/// Everything works on an instance, so tests create their own and never depend on the process-wide metrics system;
/// the daemon calls ``bootstrapMetricsSystem()`` once so that libraries recording through `MetricsSystem.factory`
/// land in the same registry.
public final class OrcaPrometheus: Sendable {
    /// The `Content-Type` of ``render()``'s text (Prometheus text exposition format 0.0.4).
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The registry holding every metric.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory over ``registry`` (with Orca's histogram buckets).
    public let factory: PrometheusMetricsFactory

    /// Creates an exporter over `registry` (a fresh one by default).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[OrcaMetrics.Name.barCommitLatency] = OrcaMetrics.commitLatencyBuckets.map {
            Duration.nanoseconds(Int64(($0 * 1e9).rounded()))
        }
        self.factory = factory
    }

    /// An ``OrcaMetrics`` recording into this exporter's registry.
    public var metrics: OrcaMetrics { OrcaMetrics(factory: factory) }

    /// Every metric in the Prometheus text format.
    public func render() -> String { registry.emitToString() }

    /// Every metric in the Prometheus text format, as UTF-8 bytes.
    public func renderBytes() -> [UInt8] { registry.emitToBuffer() }

    private static let bootstrapped = Mutex(false)

    /// Makes this exporter's factory the process-wide `MetricsSystem` backend, once per process.
    ///
    /// swift-metrics traps on a second bootstrap; this guard makes later calls (from any exporter) do nothing.
    /// - Returns: whether this call bootstrapped the metrics system.
    @discardableResult
    public func bootstrapMetricsSystem() -> Bool {
        Self.bootstrapped.withLock { done in
            guard !done else { return false }
            done = true
            MetricsSystem.bootstrap(factory)
            return true
        }
    }
}

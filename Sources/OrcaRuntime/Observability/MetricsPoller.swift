public import CandleCore
import Foundation
public import Logging
public import ServiceLifecycle

/// A `Service` that samples statistics from closures every ``interval`` and records them as metrics.
///
/// Sources are plain closures returning ``MetricsSample``s, so the poller needs no knowledge of the parts it watches:
/// the daemon passes e.g. `{ MetricsSample(tokens: …(await refresher.statistics)) }` and
/// `{ MetricsSample(report: await checker.check()) }`. Gauges are set to the sampled value; cumulative totals become
/// counter increments (the difference to the previous sample; a total that went down means its source restarted,
/// and the new total is added).
public actor MetricsPoller: Service {
    /// Produces one sample.
    public typealias Source = @Sendable () async -> MetricsSample

    /// Time between samples (at least 1 ms).
    public nonisolated let interval: Duration
    private let metrics: OrcaMetrics
    private let sources: [Source]
    private let clock: any WallClock
    private let logger: Logger
    private var lastTotals: [String: Int] = [:]
    private var polls = 0

    /// Creates a poller.
    ///
    /// - Parameters:
    ///   - logger: where events are logged.
    ///   - metrics: where to record.
    ///   - interval: time between samples (default 15 s; at least 1 ms).
    ///   - clock: the clock the poller waits on.
    ///   - sources: the closures sampled on each tick, in order.
    public init(
        metrics: OrcaMetrics, interval: Duration = .seconds(15), clock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "orca.metrics", factory: { _ in SwiftLogNoOpLogHandler() }),
        sources: [Source]
    ) {
        self.metrics = metrics
        self.interval = max(.milliseconds(1), interval)
        self.clock = clock
        self.logger = logger
        self.sources = sources
    }

    /// How many times the sources have been sampled.
    public var pollCount: Int { polls }

    /// Samples every source once and records the results.
    public func pollOnce() async {
        for source in sources {
            record(await source())
        }
        polls += 1
    }

    /// Samples now and then every ``interval`` until cancelled or gracefully shut down.
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.pollOnce()
                do {
                    try await self.clock.sleep(for: self.interval.timeInterval)
                } catch is CancellationError {
                    return
                }
            }
        }
    }

    /// Records one sample (also usable without the loop).
    public func record(_ sample: MetricsSample) {
        if let tokens = sample.tokens {
            metrics.tokenRenewals(delta("renewals", tokens.renewals))
            metrics.tokenLogins(delta("logins", tokens.logins))
            metrics.tokenFailures(delta("token_failures", tokens.failures))
            metrics.tokenKeysRestored(delta("token_keys_restored", tokens.keysRestored))
        }
        for (login, seconds) in sample.tokenExpiry {
            metrics.tokenExpiry(secondsLeft: seconds, login: login)
        }
        if let buffer = sample.buffer {
            metrics.bufferDepth(
                pendingCandles: buffer.pendingCandles, spilledCandles: buffer.spilledCandles,
                spillBytes: buffer.spillBytes)
            metrics.sinkErrors(delta("buffer_failed_writes", buffer.failedWrites), sink: "buffer")
        }
        if let collector = sample.collector {
            for (series, total) in collector.barsWritten {
                metrics.barsWritten(delta("bars|\(series)", total), series: series)
            }
            metrics.socketReconnects(delta("reconnects", collector.socketReconnects))
            metrics.malformedFrames(delta("malformed", collector.malformedFrames))
            metrics.barsRecovered(delta("bars_recovered", collector.barsRecovered))
            metrics.chartResubscriptions(delta("chart_resubscriptions", collector.chartResubscriptions))
            metrics.penalties(delta("penalties", collector.penalties), component: "market_data", captcha: false)
            metrics.penalties(delta("captchas", collector.captchas), component: "market_data", captcha: true)
            if let connected = collector.connected { metrics.socketConnected(connected) }
        }
        for entry in sample.freshness {
            if let start = entry.lastBarStart { metrics.lastBarStart(start, series: entry.series) }
            metrics.freshnessLag(seconds: entry.lagSeconds, series: entry.series)
            metrics.missingBars(entry.missingBars, series: entry.series)
        }
        if let code = sample.healthCode { metrics.healthStatus(code: code) }
        for (component, up) in sample.components {
            metrics.componentUp(up, component: component)
        }
    }

    /// The increment that brings the counter `key` from its last total to `total`.
    private func delta(_ key: String, _ total: Int) -> Int {
        let previous = lastTotals[key] ?? 0
        lastTotals[key] = total
        return total >= previous ? total - previous : total
    }
}

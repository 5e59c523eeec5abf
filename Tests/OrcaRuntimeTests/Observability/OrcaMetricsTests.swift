import CandleCore
import Foundation
import OrcaRuntime
import Testing

@Suite("Orca metrics: names, Prometheus rendering, poller", .timeLimit(.minutes(10)))
struct OrcaMetricsTests {
    let nq5 = Series(.nq, .fiveMinutes)
    let es60 = Series(.es, .oneHour)

    /// The sample lines (not comments) of `text` whose metric name and labels start with `prefix`.
    func lines(_ text: String, _ prefix: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
    }

    @Test func countersGaugesAndHistogramsRenderWithTheirLabels() {
        let exporter = OrcaPrometheus()
        let metrics = exporter.metrics
        metrics.barsWritten(3, series: nq5)
        metrics.barsWritten(4, series: nq5)
        metrics.barsWritten(1, series: es60)
        metrics.lastBarStart(Date(timeIntervalSince1970: 1_795_000_200), series: nq5)
        metrics.freshnessLag(seconds: 600, series: nq5)
        metrics.tokenExpiry(secondsLeft: 4_500, login: "demo")
        metrics.penalties(component: "auth", captcha: true)
        metrics.barCommitLatency(seconds: 0.3, series: nq5)
        metrics.barCommitted(
            series: nq5, barEnd: Date(timeIntervalSince1970: 100), committedAt: Date(timeIntervalSince1970: 145))
        let text = exporter.render()
        #expect(text.contains("# TYPE orca_bars_written_total counter"))
        #expect(
            lines(text, "orca_bars_written_total{series=\"NQ 5min\"}") == [
                "orca_bars_written_total{series=\"NQ 5min\"} 7"
            ])
        #expect(
            lines(text, "orca_bars_written_total{series=\"ES 1hour\"}") == [
                "orca_bars_written_total{series=\"ES 1hour\"} 1"
            ])
        #expect(text.contains("# TYPE orca_last_bar_time_seconds gauge"))
        #expect(lines(text, "orca_last_bar_time_seconds{series=\"NQ 5min\"}").first?.hasSuffix(" 1795000200.0") == true)
        #expect(lines(text, "orca_freshness_lag_seconds{series=\"NQ 5min\"}").first?.hasSuffix(" 600.0") == true)
        #expect(lines(text, "orca_token_expiry_seconds{login=\"demo\"}").first?.hasSuffix(" 4500.0") == true)
        #expect(text.contains("orca_penalties_total{component=\"auth\",captcha=\"true\"} 1"))
        #expect(text.contains("# TYPE orca_bar_commit_latency_seconds histogram"))
        #expect(text.contains("orca_bar_commit_latency_seconds_count{series=\"NQ 5min\"} 2"))
        // Orca's buckets: 0.3 s falls in le="0.5", 45 s in le="60".
        #expect(text.contains("orca_bar_commit_latency_seconds_bucket{series=\"NQ 5min\",le=\"0.5\"} 1"))
        #expect(text.contains("orca_bar_commit_latency_seconds_bucket{series=\"NQ 5min\",le=\"60.0\"} 2"))
    }

    @Test func everyNameCanBeRecordedTogetherInOneRegistry() {
        let exporter = OrcaPrometheus()
        let metrics = exporter.metrics
        metrics.barsWritten(1, series: nq5)
        metrics.lastBarStart(Date(timeIntervalSince1970: 0), series: nq5)
        metrics.freshnessLag(seconds: 0, series: nq5)
        metrics.missingBars(0, series: nq5)
        metrics.barCommitLatency(seconds: 1, series: nq5)
        metrics.tokenExpiry(secondsLeft: 1, login: "a")
        metrics.tokenRenewals()
        metrics.tokenLogins()
        metrics.tokenFailures()
        metrics.tokenKeysRestored(3)
        metrics.barsRecovered()
        metrics.chartResubscriptions()
        metrics.penalties(component: "market_data", captcha: false)
        metrics.socketReconnects()
        metrics.socketConnected(true)
        metrics.malformedFrames()
        metrics.sinkErrors(sink: "postgres")
        metrics.bufferDepth(pendingCandles: 1, spilledCandles: 2, spillBytes: 3)
        metrics.healthStatus(code: 1)
        metrics.componentUp(true, component: "redis")
        let text = exporter.render()
        for name in OrcaMetrics.Name.all {
            #expect(text.contains("# TYPE \(name) "), "\(name) missing from:\n\(text)")
        }
        #expect(text.contains("orca_spill_candles 2"))
        #expect(text.contains("orca_health_status 1"))
    }

    @Test func twoExportersDoNotShareMetrics() {
        let first = OrcaPrometheus()
        let second = OrcaPrometheus()
        first.metrics.socketReconnects(5)
        #expect(first.render().contains("orca_socket_reconnects_total 5"))
        #expect(!second.render().contains("orca_socket_reconnects_total"))
    }

    @Test func pollerTurnsTotalsIntoCounterIncrements() async {
        let exporter = OrcaPrometheus()
        let totals = TotalsBox()
        let nq5 = self.nq5
        let poller = MetricsPoller(
            metrics: exporter.metrics, interval: .seconds(15),
            clock: ManualWallClock(now: Date(timeIntervalSince1970: 0)),
            sources: [
                {
                    let value = totals.value
                    return MetricsSample(
                        tokens: .init(renewals: value, logins: 1, failures: 0, keysRestored: value * 3), tokenExpiry: ["demo": 3_000],
                        buffer: .init(pendingCandles: value, spilledCandles: 0, spillBytes: 0, failedWrites: 0),
                        collector: .init(barsWritten: [nq5: value * 10], socketReconnects: value, connected: true))
                }
            ])
        totals.value = 2
        await poller.pollOnce()
        totals.value = 5
        await poller.pollOnce()
        totals.value = 1  // the source restarted: its new total is added
        await poller.pollOnce()
        let text = exporter.render()
        #expect(text.contains("orca_token_renewals_total 6"))
        #expect(text.contains("orca_token_logins_total 1"))
        #expect(text.contains("orca_token_keys_restored_total 18"))
        #expect(text.contains("orca_bars_written_total{series=\"NQ 5min\"} 60"))
        #expect(text.contains("orca_socket_reconnects_total 6"))
        #expect(text.contains("orca_buffer_pending_candles 1"))
        #expect(text.contains("orca_socket_connected 1"))
        #expect(lines(text, "orca_token_expiry_seconds{login=\"demo\"}").first?.hasSuffix(" 3000.0") == true)
        #expect(await poller.pollCount == 3)
    }

    @Test func pollerRunsOnTheInjectedClockUntilCancelled() async throws {
        let exporter = OrcaPrometheus()
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 1_000))
        let poller = MetricsPoller(
            metrics: exporter.metrics, interval: .seconds(30), clock: clock,
            sources: [
                { MetricsSample(healthCode: 0, components: ["redis": true]) }
            ])
        let task = Task { try await poller.run() }
        await clock.waitForSleepers(1)
        #expect(await poller.pollCount == 1)
        #expect(clock.nextDeadline == Date(timeIntervalSince1970: 1_030))
        clock.advance(by: 30)
        #expect(await eventually { await poller.pollCount == 2 })
        task.cancel()
        try await task.value
        #expect(exporter.render().contains("orca_component_up{component=\"redis\"} 1"))
    }
}

/// A mutable total shared with a sampling closure.
final class TotalsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = 0
    var value: Int {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

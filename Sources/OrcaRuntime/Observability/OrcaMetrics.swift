public import CandleCore
public import Foundation
public import Metrics

/// Every metric Orca records, with its name and labels in one place, recorded through swift-metrics.
///
/// Libraries and the daemon call the typed functions (`barsWritten(_:series:)`, `tokenExpiry(secondsLeft:login:)`…);
/// the backend is the `MetricsFactory` given at creation (the process-wide one by default; ``OrcaPrometheus`` gives
/// its own so tests never touch global state). Names follow Prometheus conventions: counters end in `_total`, times
/// are seconds. Each name always carries the same label names (Prometheus requires it), which this type guarantees.
/// See `Docs/observability.md` for the table of every metric.
public struct OrcaMetrics: Sendable {
    /// Metric names.
    public enum Name {
        /// Counter `{series}`: bars written to the sink (inserted or updated).
        public static let barsWritten = "orca_bars_written_total"
        /// Gauge `{series}`: start of the latest stored bar, Unix seconds.
        public static let lastBarTime = "orca_last_bar_time_seconds"
        /// Gauge `{series}`: how far the latest stored bar trails the latest bar that should have closed, seconds of
        /// bar time (0 when up to date; a closed market is never behind).
        public static let freshnessLag = "orca_freshness_lag_seconds"
        /// Gauge `{series}`: expected, closed bars after the latest stored one.
        public static let missingBars = "orca_missing_bars"
        /// Histogram `{series}`: bar close → committed to the sink, seconds.
        public static let barCommitLatency = "orca_bar_commit_latency_seconds"
        /// Gauge `{login}`: seconds until the login's token expires (negative once expired).
        public static let tokenExpiry = "orca_token_expiry_seconds"
        /// Counter: successful token renewals (`renewaccesstoken`).
        public static let tokenRenewals = "orca_token_renewals_total"
        /// Counter: successful logins (`accesstokenrequest`).
        public static let tokenLogins = "orca_token_logins_total"
        /// Counter: failed token refresh attempts.
        public static let tokenFailures = "orca_token_failures_total"
        /// Counter: token keys the store (Redis) had lost, or held another token in, written again from memory.
        public static let tokenKeysRestored = "orca_token_keys_restored_total"
        /// Counter `{component, captcha}`: penalty tickets received (`p-ticket`), `captcha="true"` when `p-captcha`.
        public static let penalties = "orca_penalties_total"
        /// Counter: bars fetched from history at their close because the live feed had not delivered them complete.
        public static let barsRecovered = "orca_bars_recovered_total"
        /// Counter: chart subscriptions renewed because they had gone quiet.
        public static let chartResubscriptions = "orca_chart_resubscriptions_total"
        /// Counter: market-data WebSocket reconnects.
        public static let socketReconnects = "orca_socket_reconnects_total"
        /// Gauge: 1 while the market-data WebSocket is connected and authorized, else 0.
        public static let socketConnected = "orca_socket_connected"
        /// Counter: market-data frames that could not be parsed.
        public static let malformedFrames = "orca_malformed_frames_total"
        /// Counter `{sink}`: failed sink writes.
        public static let sinkErrors = "orca_sink_errors_total"
        /// Gauge: candles waiting in the buffer (memory + spill file).
        public static let bufferPending = "orca_buffer_pending_candles"
        /// Gauge: candles in the spill file.
        public static let spillDepth = "orca_spill_candles"
        /// Gauge: size of the spill file, bytes.
        public static let spillBytes = "orca_spill_bytes"
        /// Gauge: overall health, 0 healthy, 1 degraded, 2 down (the `orca-run health` exit code).
        public static let healthStatus = "orca_health_status"
        /// Gauge `{component}`: 1 when the component is healthy, 0 otherwise.
        public static let componentUp = "orca_component_up"

        /// Every name above, for documentation and tests.
        public static let all: [String] = [
            barsWritten, lastBarTime, freshnessLag, missingBars, barCommitLatency, tokenExpiry, tokenRenewals,
            tokenLogins, tokenFailures, tokenKeysRestored, penalties, barsRecovered, chartResubscriptions, socketReconnects, socketConnected, malformedFrames, sinkErrors,
            bufferPending, spillDepth, spillBytes, healthStatus, componentUp,
        ]
    }

    /// Label names.
    public enum Label {
        /// `NQ 5min` (`CandleCore.Series.description`).
        public static let series = "series"
        /// A Tradovate login name (not a secret).
        public static let login = "login"
        /// `auth` or `market_data`.
        public static let component = "component"
        /// `true` or `false`.
        public static let captcha = "captcha"
        /// The sink backend: `postgres`, `files`, `memory` or `buffer`.
        public static let sink = "sink"
    }

    /// Histogram buckets (seconds) for ``Name/barCommitLatency``: a bar should be stored within seconds of its
    /// close; the long tail shows outages.
    public static let commitLatencyBuckets: [Double] = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

    /// The backend every metric is created with.
    public let factory: any MetricsFactory

    /// Records through `factory` (the process-wide factory by default, `MetricsSystem.factory`).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    // MARK: Bars

    /// Adds `count` bars written for `series`.
    public func barsWritten(_ count: Int, series: Series) {
        counter(Name.barsWritten, [(Label.series, series.description)]).increment(by: max(0, count))
    }

    /// Sets the start of the latest stored bar of `series`.
    public func lastBarStart(_ start: Date, series: Series) {
        gauge(Name.lastBarTime, [(Label.series, series.description)]).record(start.timeIntervalSince1970)
    }

    /// Sets how far `series` trails the latest bar that should have closed, seconds.
    public func freshnessLag(seconds: TimeInterval, series: Series) {
        gauge(Name.freshnessLag, [(Label.series, series.description)]).record(max(0, seconds))
    }

    /// Sets how many expected, closed bars of `series` are missing after the latest stored one.
    public func missingBars(_ count: Int, series: Series) {
        gauge(Name.missingBars, [(Label.series, series.description)]).record(max(0, count))
    }

    /// Records the time from a bar's close to its commit in the sink.
    public func barCommitLatency(seconds: TimeInterval, series: Series) {
        Metrics.Timer(label: Name.barCommitLatency, dimensions: [(Label.series, series.description)], factory: factory)
            .recordNanoseconds(Int64((max(0, seconds) * 1e9).rounded()))
    }

    /// Records the latency of a bar that closed at `barEnd` and was committed at `committedAt`.
    public func barCommitted(series: Series, barEnd: Date, committedAt: Date) {
        barCommitLatency(seconds: committedAt.timeIntervalSince(barEnd), series: series)
    }

    // MARK: Tokens

    /// Sets the seconds until `login`'s token expires (negative once expired).
    public func tokenExpiry(secondsLeft: TimeInterval, login: String) {
        gauge(Name.tokenExpiry, [(Label.login, login)]).record(secondsLeft)
    }

    /// Adds `count` successful renewals.
    public func tokenRenewals(_ count: Int = 1) { counter(Name.tokenRenewals, []).increment(by: max(0, count)) }

    /// Adds `count` successful logins.
    public func tokenLogins(_ count: Int = 1) { counter(Name.tokenLogins, []).increment(by: max(0, count)) }

    /// Adds `count` failed refresh attempts.
    public func tokenFailures(_ count: Int = 1) { counter(Name.tokenFailures, []).increment(by: max(0, count)) }

    /// Adds `count` token keys written again after the store lost them.
    public func tokenKeysRestored(_ count: Int = 1) {
        counter(Name.tokenKeysRestored, []).increment(by: max(0, count))
    }

    /// Adds `count` penalty tickets received by `component` (`auth` or `market_data`).
    public func penalties(_ count: Int = 1, component: String, captcha: Bool) {
        counter(Name.penalties, [(Label.component, component), (Label.captcha, captcha ? "true" : "false")])
            .increment(by: max(0, count))
    }

    // MARK: Market data

    /// Adds `count` bars recovered from history at their close.
    public func barsRecovered(_ count: Int = 1) { counter(Name.barsRecovered, []).increment(by: max(0, count)) }

    /// Adds `count` quiet-chart resubscriptions.
    public func chartResubscriptions(_ count: Int = 1) {
        counter(Name.chartResubscriptions, []).increment(by: max(0, count))
    }

    /// Adds `count` WebSocket reconnects.
    public func socketReconnects(_ count: Int = 1) {
        counter(Name.socketReconnects, []).increment(by: max(0, count))
    }

    /// Sets whether the market-data WebSocket is connected.
    public func socketConnected(_ connected: Bool) {
        gauge(Name.socketConnected, []).record(connected ? 1 : 0)
    }

    /// Adds `count` frames that could not be parsed.
    public func malformedFrames(_ count: Int = 1) {
        counter(Name.malformedFrames, []).increment(by: max(0, count))
    }

    // MARK: Sinks and buffer

    /// Adds `count` failed writes of `sink` (`postgres`, `files`, `memory`, `buffer`).
    public func sinkErrors(_ count: Int = 1, sink: String) {
        counter(Name.sinkErrors, [(Label.sink, sink)]).increment(by: max(0, count))
    }

    /// Sets the buffer's depth: candles waiting in total, candles and bytes in the spill file.
    public func bufferDepth(pendingCandles: Int, spilledCandles: Int, spillBytes: Int) {
        gauge(Name.bufferPending, []).record(max(0, pendingCandles))
        gauge(Name.spillDepth, []).record(max(0, spilledCandles))
        gauge(Name.spillBytes, []).record(max(0, spillBytes))
    }

    // MARK: Health

    /// Sets the overall health code (0 healthy, 1 degraded, 2 down).
    public func healthStatus(code: Int) {
        gauge(Name.healthStatus, []).record(code)
    }

    /// Sets whether `component` (`redis`, `postgres`, `market_data`…) is healthy.
    public func componentUp(_ up: Bool, component: String) {
        gauge(Name.componentUp, [(Label.component, component)]).record(up ? 1 : 0)
    }

    // MARK: Internals

    private func counter(_ name: String, _ dimensions: [(String, String)]) -> Counter {
        Counter(label: name, dimensions: dimensions, factory: factory)
    }

    private func gauge(_ name: String, _ dimensions: [(String, String)]) -> Gauge {
        Gauge(label: name, dimensions: dimensions, factory: factory)
    }
}

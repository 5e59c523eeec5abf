public import CandleCore
public import Foundation

/// One snapshot of the statistics the daemon's parts keep, for ``MetricsPoller``.
///
/// Each part is optional: a source fills in what it knows (the token refresher its totals, the buffer its depth, the
/// collector its counts) and leaves the rest `nil`. Counts marked *total* are cumulative since the source started;
/// the poller turns them into counter increments. Each total should come from one source only.
public struct MetricsSample: Sendable, Hashable {
    /// Token refresher totals and expiries.
    public struct Tokens: Sendable, Hashable {
        /// Total successful renewals.
        public var renewals: Int
        /// Total successful logins.
        public var logins: Int
        /// Total failed refresh attempts.
        public var failures: Int
        /// Total token keys the store had lost and that were written again from memory.
        public var keysRestored: Int

        /// Creates a token snapshot.
        public init(renewals: Int = 0, logins: Int = 0, failures: Int = 0, keysRestored: Int = 0) {
            self.renewals = renewals
            self.logins = logins
            self.failures = failures
            self.keysRestored = keysRestored
        }
    }

    /// Buffer depth and failures.
    public struct Buffer: Sendable, Hashable {
        /// Candles waiting (memory + spill file).
        public var pendingCandles: Int
        /// Candles in the spill file.
        public var spilledCandles: Int
        /// Size of the spill file, bytes.
        public var spillBytes: Int
        /// Total failed writes to the backend.
        public var failedWrites: Int

        /// Creates a buffer snapshot.
        public init(pendingCandles: Int = 0, spilledCandles: Int = 0, spillBytes: Int = 0, failedWrites: Int = 0) {
            self.pendingCandles = pendingCandles
            self.spilledCandles = spilledCandles
            self.spillBytes = spillBytes
            self.failedWrites = failedWrites
        }
    }

    /// Market-data collector counts.
    public struct Collector: Sendable, Hashable {
        /// Total bars written, per series.
        public var barsWritten: [Series: Int]
        /// Total WebSocket reconnects.
        public var socketReconnects: Int
        /// Total frames that could not be parsed.
        public var malformedFrames: Int
        /// Total penalty tickets without captcha.
        public var penalties: Int
        /// Total penalty tickets with `p-captcha`.
        public var captchas: Int
        /// Whether the socket is connected now (`nil` when unknown).
        public var connected: Bool?
        /// Total bars fetched from history at their close because the live feed had not delivered them.
        public var barsRecovered: Int
        /// Total quiet-chart resubscriptions.
        public var chartResubscriptions: Int

        /// Creates a collector snapshot.
        public init(
            barsWritten: [Series: Int] = [:], socketReconnects: Int = 0, malformedFrames: Int = 0, penalties: Int = 0,
            captchas: Int = 0, connected: Bool? = nil, barsRecovered: Int = 0, chartResubscriptions: Int = 0
        ) {
            self.barsRecovered = barsRecovered
            self.chartResubscriptions = chartResubscriptions
            self.barsWritten = barsWritten
            self.socketReconnects = socketReconnects
            self.malformedFrames = malformedFrames
            self.penalties = penalties
            self.captchas = captchas
            self.connected = connected
        }
    }

    /// Freshness of one series (from a health check).
    public struct Freshness: Sendable, Hashable {
        /// The series.
        public var series: Series
        /// Start of the latest stored bar, if any.
        public var lastBarStart: Date?
        /// Seconds the latest stored bar trails the latest bar that should have closed.
        public var lagSeconds: TimeInterval
        /// Expected, closed bars missing after the latest stored one.
        public var missingBars: Int

        /// Creates a freshness entry.
        public init(series: Series, lastBarStart: Date?, lagSeconds: TimeInterval, missingBars: Int) {
            self.series = series
            self.lastBarStart = lastBarStart
            self.lagSeconds = lagSeconds
            self.missingBars = missingBars
        }
    }

    /// Token refresher totals.
    public var tokens: Tokens?
    /// Seconds until each login's token expires (negative once expired).
    public var tokenExpiry: [String: TimeInterval]
    /// Buffer part.
    public var buffer: Buffer?
    /// Collector part.
    public var collector: Collector?
    /// Per-series freshness.
    public var freshness: [Freshness]
    /// Overall health code (0/1/2) and per-component up/down, when the sample comes from a health check.
    public var healthCode: Int?
    /// Component name → healthy.
    public var components: [String: Bool]

    /// Creates a sample.
    public init(
        tokens: Tokens? = nil, tokenExpiry: [String: TimeInterval] = [:], buffer: Buffer? = nil,
        collector: Collector? = nil, freshness: [Freshness] = [],
        healthCode: Int? = nil, components: [String: Bool] = [:]
    ) {
        self.tokens = tokens
        self.tokenExpiry = tokenExpiry
        self.buffer = buffer
        self.collector = collector
        self.freshness = freshness
        self.healthCode = healthCode
        self.components = components
    }
}

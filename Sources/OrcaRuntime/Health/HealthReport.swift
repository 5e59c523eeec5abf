public import CandleCore
public import Foundation

/// What `orca-run health` and `GET /health` report: an overall status, why, and the state of every part.
///
/// Encodes to JSON with ISO-8601 dates (``json(prettyPrinted:)``), and renders as a table (``table()``). Never holds
/// a secret: tokens appear only as their expiry and source.
public struct HealthReport: Sendable, Hashable, Codable {
    /// Overall or per-part status, ordered healthy < degraded < down.
    public enum Status: String, Sendable, Hashable, Codable, Comparable, CaseIterable, CustomStringConvertible {
        /// Everything works.
        case healthy
        /// Data still flows, but something needs attention (a lagging series, a token near expiry, one part down).
        case degraded
        /// No data path works: no usable token, no sink, or nothing can be stored.
        case down

        /// The process exit code of `orca-run health`: 0 healthy, 1 degraded, 2 down.
        public var exitCode: Int32 {
            switch self {
            case .healthy: 0
            case .degraded: 1
            case .down: 2
            }
        }

        /// Whether `GET /health` answers 200 (healthy or degraded) rather than 503 (down).
        public var isServing: Bool { self != .down }

        public var description: String { rawValue }

        public static func < (lhs: Status, rhs: Status) -> Bool { lhs.exitCode < rhs.exitCode }
    }

    /// One login's token.
    public struct TokenHealth: Sendable, Hashable, Codable {
        /// The login name.
        public var login: String
        /// `down` when missing or expired, `degraded` when it expires within the warning threshold.
        public var status: Status
        /// Seconds until expiry (negative once expired), `nil` when there is no token.
        public var secondsToExpiry: TimeInterval?
        /// When it expires.
        public var expiresAt: Date?
        /// Where it came from (`login`, `renewal`, `store`).
        public var source: String?
        /// The last refresh error for this login (never a secret).
        public var lastError: String?
        /// When the token store (Redis) last lost keys of this login and the daemon wrote them again.
        public var keysRestoredAt: Date?
        /// How many keys that restoration wrote.
        public var keysRestored: Int?

        /// Creates a token entry.
        public init(
            login: String, status: Status, secondsToExpiry: TimeInterval?, expiresAt: Date?, source: String?,
            lastError: String?, keysRestoredAt: Date? = nil, keysRestored: Int? = nil
        ) {
            self.login = login
            self.status = status
            self.secondsToExpiry = secondsToExpiry
            self.expiresAt = expiresAt
            self.source = source
            self.lastError = lastError
            self.keysRestoredAt = keysRestoredAt
            self.keysRestored = keysRestored
        }
    }

    /// One infrastructure part: `tokens`, `redis`, `postgres`/`files`/`memory` (the sink), `buffer`, `market_data`.
    public struct ComponentHealth: Sendable, Hashable, Codable {
        /// The component's name.
        public var name: String
        /// Its status.
        public var status: Status
        /// Whether it answered (`nil` when it has no such notion).
        public var reachable: Bool?
        /// How long the probe took, seconds (for the sink: its first query).
        public var latencySeconds: TimeInterval?
        /// A short statement of its state (`connected`, `12 candles pending`…).
        public var detail: String?
        /// The last error seen (never a secret).
        public var lastError: String?

        /// Creates a component entry.
        public init(
            name: String, status: Status, reachable: Bool? = nil, latencySeconds: TimeInterval? = nil,
            detail: String? = nil, lastError: String? = nil
        ) {
            self.name = name
            self.status = status
            self.reachable = reachable
            self.latencySeconds = latencySeconds
            self.detail = detail
            self.lastError = lastError
        }
    }

    /// Freshness of one series, judged against the trading calendar.
    public struct SeriesHealth: Sendable, Hashable, Codable {
        /// The series (encoded as `"NQ 5min"` plus `instrument` and `timeframeMinutes`).
        public var series: Series
        /// `degraded` when more expected bars are missing than allowed or none is stored, `down` when the sink could
        /// not be asked.
        public var status: Status
        /// Whether the market is open at the check.
        public var marketOpen: Bool
        /// Start of the latest stored bar.
        public var lastBarStart: Date?
        /// Start of the latest bar that should have closed (and been stored) by now, per the calendar.
        public var expectedLastBarStart: Date?
        /// Expected, closed bars after ``lastBarStart`` (counted over the look-back window at most).
        public var missingBars: Int
        /// `expectedLastBarStart − lastBarStart` in seconds (0 when up to date; `nil` when nothing is stored).
        public var lagSeconds: TimeInterval?
        /// Why the sink could not be asked.
        public var lastError: String?

        /// Creates a series entry.
        public init(
            series: Series, status: Status, marketOpen: Bool, lastBarStart: Date?, expectedLastBarStart: Date?,
            missingBars: Int, lagSeconds: TimeInterval?, lastError: String?
        ) {
            self.series = series
            self.status = status
            self.marketOpen = marketOpen
            self.lastBarStart = lastBarStart
            self.expectedLastBarStart = expectedLastBarStart
            self.missingBars = missingBars
            self.lagSeconds = lagSeconds
            self.lastError = lastError
        }

        private enum CodingKeys: String, CodingKey {
            case series, instrument, timeframeMinutes, status, marketOpen, lastBarStart, expectedLastBarStart
            case missingBars, lagSeconds, lastError
        }

        /// Decodes an entry; the instrument must be a built-in root (NQ, MNQ, ES, MES).
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let root = try container.decode(String.self, forKey: .instrument)
            let minutes = try container.decode(Int.self, forKey: .timeframeMinutes)
            guard let instrument = Instrument.builtIn(root: root), let timeframe = try? Timeframe(minutes: minutes)
            else {
                throw DecodingError.dataCorruptedError(
                    forKey: .instrument, in: container,
                    debugDescription: "unknown series \(root) \(minutes) minutes (only built-in roots decode)")
            }
            self.series = Series(instrument, timeframe)
            self.status = try container.decode(Status.self, forKey: .status)
            self.marketOpen = try container.decode(Bool.self, forKey: .marketOpen)
            self.lastBarStart = try container.decodeIfPresent(Date.self, forKey: .lastBarStart)
            self.expectedLastBarStart = try container.decodeIfPresent(Date.self, forKey: .expectedLastBarStart)
            self.missingBars = try container.decode(Int.self, forKey: .missingBars)
            self.lagSeconds = try container.decodeIfPresent(TimeInterval.self, forKey: .lagSeconds)
            self.lastError = try container.decodeIfPresent(String.self, forKey: .lastError)
        }

        /// Encodes the entry with the series as text and as its parts.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(series.description, forKey: .series)
            try container.encode(series.instrument.root, forKey: .instrument)
            try container.encode(series.timeframe.minutes, forKey: .timeframeMinutes)
            try container.encode(status, forKey: .status)
            try container.encode(marketOpen, forKey: .marketOpen)
            try container.encodeIfPresent(lastBarStart, forKey: .lastBarStart)
            try container.encodeIfPresent(expectedLastBarStart, forKey: .expectedLastBarStart)
            try container.encode(missingBars, forKey: .missingBars)
            try container.encodeIfPresent(lagSeconds, forKey: .lagSeconds)
            try container.encodeIfPresent(lastError, forKey: .lastError)
        }
    }

    /// The overall status.
    public var status: Status
    /// When the check ran (the injected clock's now).
    public var checkedAt: Date
    /// Why the status is not healthy, one plain sentence each (empty when healthy).
    public var reasons: [String]
    /// Per-login tokens.
    public var tokens: [TokenHealth]
    /// Infrastructure parts.
    public var components: [ComponentHealth]
    /// Per-series freshness.
    public var series: [SeriesHealth]

    /// Creates a report.
    public init(
        status: Status, checkedAt: Date, reasons: [String] = [], tokens: [TokenHealth] = [],
        components: [ComponentHealth] = [], series: [SeriesHealth] = []
    ) {
        self.status = status
        self.checkedAt = checkedAt
        self.reasons = reasons
        self.tokens = tokens
        self.components = components
        self.series = series
    }

    /// The process exit code for this report (``Status/exitCode``).
    public var exitCode: Int32 { status.exitCode }

    /// The component named `name`, if present.
    public func component(_ name: String) -> ComponentHealth? { components.first { $0.name == name } }

    /// The entry of `series`, if present.
    public func series(_ series: Series) -> SeriesHealth? { self.series.first { $0.series == series } }
}

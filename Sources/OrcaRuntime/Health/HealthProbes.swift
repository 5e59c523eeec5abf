public import Collectors
public import Foundation
public import TokenStore

/// What a token probe saw for one login.
public struct TokenObservation: Sendable, Hashable {
    /// The login name.
    public var login: String
    /// When its current token expires, or `nil` when it has none.
    public var expirationTime: Date?
    /// Where the token came from (`login`, `renewal`, `store`), when known.
    public var source: String?
    /// The last refresh error, when known (never a secret).
    public var lastError: String?
    /// When the token store last lost keys of this login and the daemon wrote them again, and how many.
    public var keysRestoredAt: Date?
    /// How many keys that restoration wrote.
    public var keysRestored: Int

    /// Creates an observation.
    public init(
        login: String, expirationTime: Date?, source: String? = nil, lastError: String? = nil,
        keysRestoredAt: Date? = nil, keysRestored: Int = 0
    ) {
        self.login = login
        self.expirationTime = expirationTime
        self.source = source
        self.lastError = lastError
        self.keysRestoredAt = keysRestoredAt
        self.keysRestored = keysRestored
    }
}

/// What a market-data probe saw.
public struct MarketDataObservation: Sendable, Hashable {
    /// Whether the WebSocket is connected and authorized.
    public var connected: Bool
    /// The last connection or protocol error (never a secret).
    public var lastError: String?
    /// Reconnects since start.
    public var reconnects: Int
    /// Series whose chart subscription is quiet right now: their bars come from history at each close
    /// (`"NQ 1min"`; see `Collectors.Collector.Statistics.quietSeries`).
    public var quietCharts: [String]

    /// Creates an observation.
    public init(connected: Bool, lastError: String? = nil, reconnects: Int = 0, quietCharts: [String] = []) {
        self.connected = connected
        self.lastError = lastError
        self.reconnects = reconnects
        self.quietCharts = quietCharts
    }
}

/// What a buffer probe saw.
public struct BufferObservation: Sendable, Hashable {
    /// Candles waiting (memory + spill file).
    public var pendingCandles: Int
    /// Candles in the spill file.
    public var spilledCandles: Int
    /// Bytes of undrained records in the spill file.
    public var spillBytes: Int
    /// How many bytes the spill file may hold (`nil` when there is no spill file).
    public var spillCapacityBytes: Int?
    /// Backend writes that failed in a row.
    public var consecutiveFailures: Int
    /// The last backend failure (never a secret).
    public var lastFailure: String?
    /// Queued candles lost because something else truncated the spill file while the buffer ran.
    public var spillCandlesLost: Int
    /// The last problem found with the spill file itself (removed or truncated while running), in plain words.
    public var spillProblem: String?

    /// Creates an observation.
    public init(
        pendingCandles: Int, spilledCandles: Int = 0, spillBytes: Int = 0, spillCapacityBytes: Int? = nil,
        consecutiveFailures: Int = 0, lastFailure: String? = nil, spillCandlesLost: Int = 0,
        spillProblem: String? = nil
    ) {
        self.pendingCandles = pendingCandles
        self.spilledCandles = spilledCandles
        self.spillBytes = spillBytes
        self.spillCapacityBytes = spillCapacityBytes
        self.consecutiveFailures = consecutiveFailures
        self.lastFailure = lastFailure
        self.spillCandlesLost = spillCandlesLost
        self.spillProblem = spillProblem
    }
}

extension BufferObservation {
    /// The earlier shape, which compared candles with a capacity that `BufferedCandleSink` counts in bytes.
    ///
    /// Kept so that existing callers compile; the spill file's fill is not judged through it (its byte count is
    /// unknown). Use
    /// ``init(pendingCandles:spilledCandles:spillBytes:spillCapacityBytes:consecutiveFailures:lastFailure:spillCandlesLost:spillProblem:)``
    /// with `stats.spillBytes`, or ``HealthProbes/buffer(_:)``.
    @available(*, deprecated, message: "spillCapacity is in bytes: pass spillBytes and spillCapacityBytes")
    public init(
        pendingCandles: Int, spilledCandles: Int, spillCapacity: Int?, consecutiveFailures: Int,
        lastFailure: String? = nil
    ) {
        self.init(
            pendingCandles: pendingCandles, spilledCandles: spilledCandles, spillBytes: 0, spillCapacityBytes: nil,
            consecutiveFailures: consecutiveFailures, lastFailure: lastFailure)
    }
}

/// The things ``HealthChecker`` asks; every one is optional (a missing probe is simply not reported, except the
/// sink: without one no bar can be stored, which is `down`).
public struct HealthProbes: Sendable {
    /// The current tokens of every login; throwing means the token store could not be read.
    public var tokens: (@Sendable () async throws -> [TokenObservation])?
    /// A round trip to Redis (e.g. `RedisTokenProvider.ping()`); throwing means unreachable.
    public var redis: (@Sendable () async throws -> Void)?
    /// The sink whose latest bars measure freshness, and its component name (`postgres`, `files`, `memory`).
    public var sink: (any CandleSink)?
    /// The sink's component name.
    public var sinkName: String
    /// The market-data socket's state.
    public var marketData: (@Sendable () async -> MarketDataObservation)?
    /// The buffer in front of the sink.
    public var buffer: (@Sendable () async -> BufferObservation)?

    /// Creates a set of probes.
    public init(
        tokens: (@Sendable () async throws -> [TokenObservation])? = nil,
        redis: (@Sendable () async throws -> Void)? = nil, sink: (any CandleSink)? = nil, sinkName: String = "sink",
        marketData: (@Sendable () async -> MarketDataObservation)? = nil,
        buffer: (@Sendable () async -> BufferObservation)? = nil
    ) {
        self.tokens = tokens
        self.redis = redis
        self.sink = sink
        self.sinkName = sinkName
        self.marketData = marketData
        self.buffer = buffer
    }

    /// A token probe over a running refresher: its cached tokens, their sources and its last errors.
    public static func tokens(from refresher: TokenRefresher) -> @Sendable () async throws -> [TokenObservation] {
        {
            let statistics = await refresher.statistics
            var result: [TokenObservation] = []
            for login in refresher.logins {
                let token = await refresher.cachedToken(for: login)
                let source = await refresher.source(of: login)
                let restoration = statistics.lastRestoration[login]
                result.append(
                    TokenObservation(
                        login: login, expirationTime: token?.expirationTime, source: source?.rawValue,
                        lastError: statistics.lastError[login], keysRestoredAt: restoration?.at,
                        keysRestored: restoration?.keys.count ?? 0))
            }
            return result
        }
    }

    /// A token probe over a token store (Redis or memory): the stored token of each of `logins`
    /// (`orca-run health` without a running daemon).
    public static func tokens(
        from provider: any TokenProvider, logins: [String]
    ) -> @Sendable () async throws -> [TokenObservation] {
        {
            var result: [TokenObservation] = []
            for login in logins {
                let token = try await provider.token(for: login)
                result.append(
                    TokenObservation(
                        login: login, expirationTime: token?.expirationTime, source: token.map { _ in "store" },
                        lastError: token == nil
                            ? "none in the token store (a running daemon writes lost keys again within "
                                + "redis.reconcileInterval, default 10 s)" : nil))
            }
            return result
        }
    }

    /// A Redis probe: `PING` through the provider.
    public static func redis(_ provider: RedisTokenProvider) -> @Sendable () async throws -> Void {
        { try await provider.ping() }
    }

    /// A buffer probe over a buffered sink's statistics.
    public static func buffer(_ sink: BufferedCandleSink) -> @Sendable () async -> BufferObservation {
        {
            let stats = await sink.stats
            return BufferObservation(
                pendingCandles: stats.pendingCandles, spilledCandles: stats.spilledCandles,
                spillBytes: stats.spillBytes,
                spillCapacityBytes: sink.configuration.spillFile == nil ? nil : sink.configuration.spillCapacity,
                consecutiveFailures: stats.consecutiveFailures, lastFailure: stats.lastFailure,
                spillCandlesLost: stats.spillCandlesLost, spillProblem: stats.spillProblem)
        }
    }
}

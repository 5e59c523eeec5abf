internal import Collectors
public import Foundation

/// Settings of a ``MarketDataClient``. Every value has a documented default; nothing here does I/O.
public struct MarketDataClientConfiguration: Sendable {
    /// Which subscription id `md/cancelChart` names (protocol §5.6 is contradictory; UNCONFIRMED).
    public enum CancelChartID: Sendable, Hashable {
        /// The `realtimeId` (the legacy prose and C# sample).
        case realtime
        /// The `historicalId` (the legacy parameter comment and the strategy sample).
        case historical
        /// Both: one request when the ids are equal, two when they differ (the default; harmless if one is unknown).
        case both
    }

    /// The market-data socket, e.g. `wss://md.tradovateapi.com/v1/websocket`, or the simulator's
    /// `ws://127.0.0.1:PORT/v1/websocket`.
    public var url: URL
    /// The TLS server name (SNI and certificate check) for a `wss://` URL whose host is an IP address. `nil` uses the
    /// URL's host, which TLS cannot do for an IP address: such a configuration is refused.
    public var tlsServerName: String?
    /// A PEM file of trusted CA certificates for `wss://`; `nil` uses the system trust store.
    public var caBundlePath: String?
    /// Largest WebSocket message accepted (a 1,000-bar packet is about 230 KB). Default 64 MiB.
    public var maxFrameSize: Int

    /// How often the client heartbeat `[]` is sent while connected, whatever the server does. Default 2.5 s.
    public var heartbeatInterval: Duration
    /// Bound on connecting, receiving `o` and being authorized. Default 30 s.
    public var connectTimeout: Duration
    /// Bound on waiting for the response to a request. Default 30 s.
    public var requestTimeout: Duration
    /// Bound on the silence of a history chart after its response, until its `eoh`. Default 30 s.
    public var historyInactivityTimeout: Duration
    /// How long a request waits for a connected, authorized socket before failing with `unavailable`. Default 60 s.
    public var connectionWaitTimeout: Duration
    /// How often a history page is sent again after its connection broke, before failing with `unavailable`.
    /// Default 3.
    public var historyAttempts: Int

    /// First reconnect delay. Default 0.5 s.
    public var backoffInitial: Duration
    /// Growth of the reconnect delay per failed attempt. Default 2.
    public var backoffMultiplier: Double
    /// Largest reconnect delay. Default 30 s.
    public var backoffCap: Duration
    /// Share of the delay that is random: the delay is `d × (1 − jitter × r)` with `r` from the random source.
    /// Default 0.5.
    public var backoffJitter: Double

    /// How often (wall clock) the token provider is asked whether the token was renewed. Default 30 s.
    public var tokenCheckInterval: Duration
    /// How long before the authorized token's expiry the client insists on a renewed one (checks every
    /// ``tokenCheckInterval`` anyway, and once more at `expiry − margin`). Default 5 min.
    public var tokenExpiryMargin: Duration

    /// Penalty tickets waited out in a row for one request before it fails with `rateLimited`. Default 5.
    public var maximumPenaltyRetries: Int
    /// The longest `p-time` waited out; a longer one fails the request with `rateLimited`. Default 300 s.
    public var maximumPenaltyWait: Duration
    /// Malformed frames on one connection before it is reset (1 = the first one). Default 1.
    public var malformedFramesBeforeReset: Int
    /// Which id `md/cancelChart` names. Default ``CancelChartID/both``.
    public var cancelChartID: CancelChartID
    /// How long a normal close waits for the server's close frame. Default 2 s.
    public var closeTimeout: Duration

    /// Creates a configuration with the defaults above.
    public init(
        url: URL,
        tlsServerName: String? = nil,
        caBundlePath: String? = nil,
        maxFrameSize: Int = 64 << 20,
        heartbeatInterval: Duration = .milliseconds(2500),
        connectTimeout: Duration = .seconds(30),
        requestTimeout: Duration = .seconds(30),
        historyInactivityTimeout: Duration = .seconds(30),
        connectionWaitTimeout: Duration = .seconds(60),
        historyAttempts: Int = 3,
        backoffInitial: Duration = .milliseconds(500),
        backoffMultiplier: Double = 2,
        backoffCap: Duration = .seconds(30),
        backoffJitter: Double = 0.5,
        tokenCheckInterval: Duration = .seconds(30),
        tokenExpiryMargin: Duration = .seconds(300),
        maximumPenaltyRetries: Int = 5,
        maximumPenaltyWait: Duration = .seconds(300),
        malformedFramesBeforeReset: Int = 1,
        cancelChartID: CancelChartID = .both,
        closeTimeout: Duration = .seconds(2)
    ) {
        self.url = url
        self.tlsServerName = tlsServerName
        self.caBundlePath = caBundlePath
        self.maxFrameSize = maxFrameSize
        self.heartbeatInterval = heartbeatInterval
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.historyInactivityTimeout = historyInactivityTimeout
        self.connectionWaitTimeout = connectionWaitTimeout
        self.historyAttempts = historyAttempts
        self.backoffInitial = backoffInitial
        self.backoffMultiplier = backoffMultiplier
        self.backoffCap = backoffCap
        self.backoffJitter = backoffJitter
        self.tokenCheckInterval = tokenCheckInterval
        self.tokenExpiryMargin = tokenExpiryMargin
        self.maximumPenaltyRetries = maximumPenaltyRetries
        self.maximumPenaltyWait = maximumPenaltyWait
        self.malformedFramesBeforeReset = malformedFramesBeforeReset
        self.cancelChartID = cancelChartID
        self.closeTimeout = closeTimeout
    }

    /// Checks the values; returns a message naming the first wrong one, or `nil`.
    func problem() -> String? {
        guard let scheme = url.scheme?.lowercased(), scheme == "ws" || scheme == "wss" else {
            return "the market-data URL must start with ws:// or wss:// (got '\(url.scheme ?? "")')"
        }
        guard let host = url.host, !host.isEmpty else { return "the market-data URL has no host" }
        if scheme == "wss", tlsServerName == nil, Self.isIPAddress(host) {
            return "a wss:// URL with an IP host needs tlsServerName (the certificate's host name) for TLS"
        }
        if maxFrameSize < 1 << 16 { return "maxFrameSize must be at least 65536 bytes" }
        let positive: [(String, Duration)] = [
            ("heartbeatInterval", heartbeatInterval), ("connectTimeout", connectTimeout),
            ("requestTimeout", requestTimeout), ("historyInactivityTimeout", historyInactivityTimeout),
            ("connectionWaitTimeout", connectionWaitTimeout), ("backoffInitial", backoffInitial),
            ("backoffCap", backoffCap), ("tokenCheckInterval", tokenCheckInterval),
        ]
        for (name, value) in positive where value <= .zero { return "\(name) must be positive" }
        if historyAttempts < 1 { return "historyAttempts must be at least 1" }
        if !(backoffMultiplier >= 1) { return "backoffMultiplier must be at least 1" }
        if !(0...1).contains(backoffJitter) { return "backoffJitter must lie in 0...1" }
        if malformedFramesBeforeReset < 1 { return "malformedFramesBeforeReset must be at least 1" }
        if maximumPenaltyRetries < 0 { return "maximumPenaltyRetries must not be negative" }
        return nil
    }

    static func isIPAddress(_ host: String) -> Bool {
        let trimmed = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if trimmed.contains(":") { return true }
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in UInt8(part) != nil }
    }
}

/// Duration arithmetic the client needs.
enum ClientTime {
    /// `duration` in seconds.
    static func seconds(_ duration: Duration) -> TimeInterval {
        let parts = duration.components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) * 1e-18
    }

    /// `seconds` as a duration (negative and non-finite values become zero).
    static func duration(_ seconds: TimeInterval) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        return .nanoseconds(Int64(min(seconds, 1e9) * 1e9))
    }
}

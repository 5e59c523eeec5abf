internal import Collectors
public import Foundation

/// Counters of a ``MarketDataClient`` for metrics and health checks: a `Sendable` snapshot, never a secret.
public struct MarketDataClientStatistics: Sendable, Hashable, Codable {
    /// WebSocket connections established (handshake done).
    public var socketsOpened = 0
    /// Connection attempts that failed before the handshake completed.
    public var connectFailures = 0
    /// `authorize` requests answered with 200 (first authorizations and re-authorizations on an open socket).
    public var authorizationsSucceeded = 0
    /// `authorize` requests refused (401 or another status) or not answered in time.
    public var authorizationsFailed = 0
    /// Re-authorizations on an open socket with a renewed token (included in ``authorizationsSucceeded``).
    public var reauthorizations = 0
    /// Connections lost or reset after having been established, each followed by a reconnect (unless shutting down).
    public var reconnects = 0
    /// Frames that could not be parsed.
    public var malformedFrames = 0
    /// Penalty tickets received (each waited out and the request resent, unless it had a captcha).
    public var penalties = 0
    /// `s:429` answers.
    public var rateLimited = 0
    /// Requests that failed because an answer or chart data did not come in time.
    public var timeouts = 0
    /// Client heartbeats sent.
    public var heartbeatsSent = 0
    /// `md/getChart` requests sent (resends included).
    public var chartRequests = 0
    /// `md/cancelChart` requests sent.
    public var chartCancels = 0
    /// Charts with a subscription at the broker now (history pages in flight plus live subscriptions).
    public var activeCharts = 0
    /// Live subscriptions now.
    public var liveSubscriptions = 0
    /// Bars received in chart packets (history and real time).
    public var barsReceived = 0
    /// `shutdown` events received.
    public var shutdownEvents = 0
    /// Whether a socket is connected and authorized now.
    public var isConnected = false
    /// The last error, for people (never a token).
    public var lastError: String?
    /// When ``lastError`` happened (wall clock).
    public var lastErrorAt: Date?

    /// All zero, not connected.
    public init() {}
}

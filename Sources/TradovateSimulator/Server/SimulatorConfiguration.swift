public import Foundation

/// One login the simulator accepts on `auth/accesstokenrequest`.
///
/// A login table file (JSON) is an array of these: `[{"name":"alice","password":"pw","cid":7,"sec":"s3cret"}]`;
/// `userId`, `userStatus` and `hasLive` are optional.
public struct SimulatorLogin: Sendable, Hashable, Codable {
    /// The user name (`name` in the request).
    public var name: String
    /// The password.
    public var password: String
    /// The API key id (`cid`).
    public var cid: Int
    /// The API secret (`sec`).
    public var sec: String
    /// The user id the responses carry (default: 1000 + position in the table when decoded without one).
    public var userId: Int
    /// `userStatus` in responses (default `Active`).
    public var userStatus: String
    /// `hasLive` in responses (default `false`).
    public var hasLive: Bool

    /// Creates a login.
    public init(
        name: String, password: String, cid: Int, sec: String, userId: Int = 1, userStatus: String = "Active",
        hasLive: Bool = false
    ) {
        self.name = name
        self.password = password
        self.cid = cid
        self.sec = sec
        self.userId = userId
        self.userStatus = userStatus
        self.hasLive = hasLive
    }

    /// The login accepted when no table is configured: name `demo`, password `demo`, cid `1`, sec `demo`.
    public static let demo = SimulatorLogin(name: "demo", password: "demo", cid: 1, sec: "demo", userId: 1)

    private enum CodingKeys: String, CodingKey { case name, password, cid, sec, userId, userStatus, hasLive }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        password = try container.decode(String.self, forKey: .password)
        if let number = try? container.decode(Int.self, forKey: .cid) {
            cid = number
        } else {
            let text = try container.decode(String.self, forKey: .cid)
            guard let number = Int(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .cid, in: container, debugDescription: "cid must be a number")
            }
            cid = number
        }
        sec = try container.decode(String.self, forKey: .sec)
        userId = try container.decodeIfPresent(Int.self, forKey: .userId) ?? 0
        userStatus = try container.decodeIfPresent(String.self, forKey: .userStatus) ?? "Active"
        hasLive = try container.decodeIfPresent(Bool.self, forKey: .hasLive) ?? false
    }

    /// Reads a login table from JSON (an array of logins). Logins without a `userId` get 1000 + their position.
    ///
    /// - Throws: ``SimulatorError`` with code `invalidLoginTable`.
    public static func table(fromJSON data: Data) throws(SimulatorError) -> [SimulatorLogin] {
        do {
            var logins = try JSONDecoder().decode([SimulatorLogin].self, from: data)
            for index in logins.indices where logins[index].userId == 0 { logins[index].userId = 1000 + index }
            return logins
        } catch {
            throw SimulatorError(
                .invalidLoginTable, "login table must be a JSON array of {name, password, cid, sec}: \(error)")
        }
    }
}

/// Penalty-ticket terms: how long the client must wait and whether a captcha is demanded.
public struct PenaltyTerms: Sendable, Hashable {
    /// `p-time`: seconds (simulation clock) before the request may be resent with the ticket.
    public var seconds: Int
    /// `p-captcha`: when `true` the response says a captcha is required (a bot should stop for about an hour).
    public var captcha: Bool

    /// Creates penalty terms.
    public init(seconds: Int, captcha: Bool = false) {
        self.seconds = seconds
        self.captcha = captcha
    }
}

/// A user-level request limit answered with HTTP 429 (REST) or `{"s":429,"i":id}` (WebSocket).
public struct RateLimit: Sendable, Hashable {
    /// Requests allowed per window (all endpoints except `_sim/stats` and heartbeats).
    public var requests: Int
    /// The fixed window, on the simulation clock.
    public var window: Duration

    /// Creates a rate limit.
    public init(requests: Int, window: Duration) {
        self.requests = requests
        self.window = window
    }
}

/// Everything a ``SimulatorServer`` can be told. Every property has a documented default; `init()` gives a simulator
/// on an ephemeral 127.0.0.1 port, seed 42, real time, one demo login.
public struct SimulatorConfiguration: Sendable {
    /// Address to bind (default `127.0.0.1`).
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 (default) picks an ephemeral port.
    public var port: Int = 0
    /// The market seed (default 42).
    public var seed: UInt64 = 42
    /// The simulation clock: which bars exist, token expiry, rate-limit windows, penalty waits, forming-bar updates
    /// (default ``RealTimeClock``).
    public var clock: any SimulationClock = RealTimeClock()
    /// The wall clock for transport timers: heartbeat timeout, server `h` cadence, authorization timeout, injected
    /// delays, refused-connection windows (default ``RealTimeClock``). Tests may pass a ``ManualClock``.
    public var wallClock: any SimulationClock = RealTimeClock()
    /// Accepted logins. Empty (default) means the single ``SimulatorLogin/demo`` login.
    public var logins: [SimulatorLogin] = []
    /// The synthetic market.
    public var market = MarketConfiguration()
    /// Authentication behaviour.
    public var auth = Auth()
    /// Market-data WebSocket behaviour.
    public var webSocket = WebSocket()
    /// Chart (`md/getChart`) behaviour.
    public var charts = Charts()
    /// Faults armed at start (what `orca-run simulate`'s fault flags set).
    public var startupFaults = StartupFaults()

    /// Creates the default configuration.
    public init() {}

    /// The logins in force: ``logins``, or the demo login when empty.
    public var effectiveLogins: [SimulatorLogin] { logins.isEmpty ? [.demo] : logins }

    /// Authentication: tokens, sessions, penalties and limits.
    public struct Auth: Sendable {
        /// How `mdAccessToken` relates to `accessToken`.
        public enum MDTokenMode: Sendable, Hashable {
            /// A separate random token (default).
            case distinct
            /// The same string as `accessToken`.
            case sameAsAccessToken
            /// Not returned at all (clients must fall back to `accessToken`).
            case omitted
        }

        /// Token lifetime on the simulation clock (default 90 minutes).
        public var tokenLifetime: Duration = .seconds(90 * 60)
        /// `mdAccessToken` mode (default ``MDTokenMode/distinct``).
        public var mdAccessToken: MDTokenMode = .distinct
        /// Whether a renewal also returns a new `mdAccessToken` (default `true`).
        public var renewalReturnsMDAccessToken = true
        /// Whether a renewal revokes the token it renewed at once (default `false`: the old token works until its own
        /// expiry).
        public var renewalInvalidatesOldToken = false
        /// Concurrent sessions per user; a further login ends the oldest session and revokes its tokens (default 2;
        /// `nil` = unlimited).
        public var maxSessionsPerUser: Int? = 2
        /// HTTP status of a bad-credentials answer (default 200, with `errorText`; 401 is the other documented choice).
        public var badCredentialsStatus = 200
        /// `errorText` of a bad-credentials answer.
        public var badCredentialsErrorText = "Incorrect username or password. Please try again."
        /// Failed logins (in a rolling hour) after which every login needs a penalty ticket (default 3; `nil` = never).
        public var failedLoginsBeforePenalty: Int? = 3
        /// Terms of the login penalty (default 15 s, no captcha).
        public var loginPenalty = PenaltyTerms(seconds: 15)
        /// Successful renewals per rolling hour before renewals need a penalty ticket (default 15; `nil` = no limit).
        public var maxRenewalsPerHour: Int? = 15
        /// Terms of the renewal penalty (default 15 s, no captcha).
        public var renewalPenalty = PenaltyTerms(seconds: 15)
        /// A user-level limit answered with 429 (default `nil`: off).
        public var rateLimit: RateLimit? = nil

        /// Creates the default authentication settings.
        public init() {}
    }

    /// The market-data WebSocket.
    public struct WebSocket: Sendable {
        /// What happens to an open socket when the token it was authorized with expires.
        public enum TokenExpiryBehaviour: Sendable, Hashable {
            /// Nothing: the socket keeps streaming (requests are still recorded in the expired-token audit).
            case keepOpen
            /// The socket receives `c[3003,"Access token expired"]` and is closed (default). Re-sending `authorize`
            /// with a fresh token before expiry moves the deadline.
            case close
            /// The socket stays open but goes silent: no more chart data, no responses.
            case silence
        }

        /// Which token `authorize` accepts.
        public enum AcceptedTokens: Sendable, Hashable {
            /// Only `mdAccessToken`.
            case mdAccessToken
            /// Only `accessToken`.
            case accessToken
            /// Either (default).
            case either
        }

        /// How messages are grouped into `a[...]` frames.
        public enum Batching: Sendable, Hashable {
            /// One message per frame.
            case separateFrames
            /// Messages ready at the same time share one frame (default): a response and its first history packet, the
            /// real-time updates of every chart due at one instant.
            case messagesInOneFrame
            /// As ``messagesInOneFrame``, and chart events ready together are merged into one event whose `charts`
            /// array holds several charts' packets.
            case chartsInOneEvent
        }

        /// Close a socket that sent nothing (no `[]`, no request) for this long, wall clock (default 30 s; `nil` =
        /// never).
        public var heartbeatTimeout: Duration? = .seconds(30)
        /// Send `h` when nothing else was sent for this long, wall clock (default 25 s, the SockJS default; `nil` =
        /// never).
        public var serverHeartbeatInterval: Duration? = .seconds(25)
        /// Close a socket that has not authorized within this long, wall clock (default 30 s; `nil` = never).
        public var authorizationTimeout: Duration? = .seconds(30)
        /// Socket behaviour at token expiry (default ``TokenExpiryBehaviour/close``).
        public var tokenExpiry: TokenExpiryBehaviour = .close
        /// Tokens `authorize` accepts (default ``AcceptedTokens/either``).
        public var acceptedTokens: AcceptedTokens = .either
        /// Whether a token wrapped in JSON quotes is accepted by `authorize` (default `false`: 401, as reported).
        public var acceptQuotedToken = false
        /// Whether endpoint names match case-insensitively (`md/getchart`) (default `true`).
        public var caseInsensitiveEndpoints = true
        /// Frame batching (default ``Batching/messagesInOneFrame``).
        public var batching: Batching = .messagesInOneFrame
        /// Largest `a[...]` frame built by batching, in bytes (default 1 MiB; a single larger message is sent alone).
        public var maxFrameBytes = 1 << 20

        /// Creates the default WebSocket settings.
        public init() {}
    }

    /// `md/getChart`.
    public struct Charts: Sendable {
        /// Which id chart packets carry.
        public enum IDs: Sendable, Hashable {
            /// `historicalId == realtimeId` (default).
            case equal
            /// Different ids; history packets and `eoh` carry the given one, real-time packets carry `realtimeId`.
            case distinct(historyPacketsCarry: Kind)
        }

        /// One of the two subscription ids.
        public enum Kind: Sendable, Hashable {
            /// `historicalId`.
            case historical
            /// `realtimeId`.
            case realtime
        }

        /// Most bars one `md/getChart` returns; the newest part of a longer range is sent, so clients page backwards
        /// (default 10 000).
        public var maxBarsPerResponse = 10_000
        /// Bars per chart packet in history (default 1 000).
        public var barsPerPacket = 1_000
        /// Subscription id scheme (default ``IDs/equal``).
        public var ids: IDs = .equal
        /// Whether `closestTimestamp` includes a bar starting exactly at it (default `true`).
        public var closestTimestampInclusive = true
        /// Whether history ends with the forming bar (default `true`).
        public var includeFormingBarInHistory = true
        /// How far back history reaches from the current simulated time (default `nil`: to the contract's listing, or
        /// 2000-01-01 for continuous symbols).
        public var historyDepth: Duration? = nil
        /// Whether an expired contract still has history (default `false`: only `eoh`, as reported for Tradovate).
        public var expiredContractsHaveHistory = false
        /// Forming-bar update cadence on the simulation clock (default 1 s). Updates are sent only when the bar changed.
        public var formingBarUpdateInterval: Duration = .seconds(1)
        /// Whether a closed bar's final state is sent once (same timestamp) before the next bar (default `true`).
        public var sendFinalBar = true
        /// Whether `timeRange`/`chartDescription` field names match case-insensitively (default `false`, so the
        /// tutorial's `asFarAsTimeStamp` typo is ignored like an unknown field).
        public var caseInsensitiveFields = false

        /// Creates the default chart settings.
        public init() {}
    }

    /// Faults armed when the server starts (each has a Swift counterpart on ``SimulatorFaults``).
    public struct StartupFaults: Sendable {
        /// Drop every socket after it has sent this many frames (default `nil`: off).
        public var dropSocketsAfterMessages: Int? = nil
        /// Delay every response by this much, wall clock (default `nil`: off).
        public var responseDelay: Duration? = nil
        /// Hold `eoh` of every chart (default `false`).
        public var stallCharts = false
        /// Real-time updates with completed minutes only (``SimulatorFaults/quietCharts(_:)``; default `false`).
        public var quietCharts = false
        /// Answer the next K requests (REST and WebSocket) with a penalty ticket (default 0).
        public var penalizeNextRequests = 0
        /// Terms of those forced penalties (default 5 s, no captcha).
        public var forcedPenalty = PenaltyTerms(seconds: 5)
        /// Send a malformed frame on every socket after it has sent this many frames (default `nil`: off).
        public var malformedFrameAfterMessages: Int? = nil
        /// Refuse connections for this long right after binding (default `nil`: off).
        public var refuseConnectionsFor: Duration? = nil
        /// Restart the listener (dropping every socket) this often (default `nil`: off).
        public var restartEvery: Duration? = nil
        /// Drop every socket this often (default `nil`: off).
        public var dropSocketsEvery: Duration? = nil
        /// Revoke every token this often (default `nil`: off).
        public var revokeTokensEvery: Duration? = nil

        /// Creates an empty fault set.
        public init() {}
    }
}

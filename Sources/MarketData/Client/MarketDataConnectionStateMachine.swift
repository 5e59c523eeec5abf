import CandleCore
internal import Collectors
import Foundation
import Logging

/// The market-data client's protocol logic as a value: connection phase, authorization, outstanding requests, chart
/// entries and their routing. It does no I/O and reads no clock: every mutating method takes one event (connection
/// opened, frame decoded, token fetched, timer fired, request made or cancelled, connection ended, shutdown) and
/// returns the ``Action``s the I/O shell (``ClientCore``) must carry out, in order.
///
/// Modelled on postgres-nio's `ConnectionStateMachine`: the shell owns sockets, timers and continuations; the machine
/// owns every decision.
struct MarketDataConnectionStateMachine {
    /// Where the connection is.
    enum Phase: Equatable {
        /// `run()` has not started.
        case idle
        /// Connecting, or waiting for `o`.
        case connecting
        /// `authorize` sent (or the token is being fetched for it).
        case authorizing
        /// Authorized: requests go out.
        case ready
        /// Between connections.
        case backoff
        /// `run()` ended: every request fails with `closed`.
        case stopped
    }

    /// A timer the shell runs; when it fires the shell calls ``timerFired(_:)`` with it. A timer is never cancelled:
    /// one that fired late (its entry moved on, its generation is old) is ignored.
    enum Timer: Hashable, Sendable {
        /// A chart entry's deadline on the transport clock (connection wait, response, history inactivity).
        case chart(handle: Int, generation: Int, after: Duration)
        /// A penalty ticket's `p-time` on the wall clock.
        case penalty(handle: Int, generation: Int, seconds: TimeInterval)
        /// The answer to a re-authorization on the open socket (transport clock).
        case reauthorization(connection: Int, request: Int, after: Duration)
    }

    /// What the shell must do.
    enum Action {
        /// Queue one text frame on the current connection (dropped when its queue has been closed).
        case send(String)
        /// Close the current connection's outbound queue: the session drains it and closes the socket normally.
        case closeOutgoing
        /// Cancel the connection attempt in progress (the handshake did not complete in time).
        case cancelConnectionAttempt
        /// Stop reading the current connection's frames.
        case stopReading
        /// Record `message` as the last error, stamped with the wall clock.
        case noteError(String)
        /// Start a timer.
        case schedule(Timer)
        /// Ask the token provider for the token to authorize connection `connection` with.
        case fetchToken(connection: Int)
        /// Tell the token's owner the server already refused this token (so it can log in again).
        case notifyTokenRefused(Token)
        /// Complete a history page with its bars.
        case deliverHistory(handle: Int, bars: [ChartBar])
        /// Complete a live subscription's first wait (the broker accepted it).
        case confirmSubscription(handle: Int)
        /// Deliver an event to a live subscription's stream.
        case deliverLive(handle: Int, event: LiveChartEvent)
        /// End an entry with `error` (history: its continuation; live: the first wait, or the stream).
        case fail(handle: Int, error: any Error)
        /// Wait out the backoff for `attempt` failed connections in a row, then connect again.
        case reconnect(attempt: Int)
        /// Stop the connection loop.
        case stopConnecting
    }

    /// What an outstanding request id is for.
    enum Outstanding {
        case authorize(AuthorizeAttempt)
        case chart(handle: Int)
        case cancel
    }

    /// One `authorize` in flight.
    struct AuthorizeAttempt {
        let token: Token
        let sent: String
        let isReauthorization: Bool
    }

    /// The current connection.
    struct Connection {
        let id: Int
        /// The handshake is done and the session's outbound queue exists.
        var established = false
        var authorizedToken: Token?
        var authorizedWith: String?
        var malformedFrames = 0
        var closeReason: String?
    }

    let configuration: MarketDataClientConfiguration
    let logger: Logger

    private(set) var phase: Phase = .idle
    private(set) var shuttingDown = false
    private(set) var connection: Connection?
    /// Counters (the shell stamps ``MarketDataClientStatistics/lastErrorAt``).
    var statistics = MarketDataClientStatistics()
    private var nextConnectionID = 0
    private var nextRequestID = 0
    private var nextHandle = 0
    /// Failed connections in a row (reset by one that was authorized).
    private(set) var failedConnections = 0
    var requests: [Int: Outstanding] = [:]
    /// Request ids given up on (timed out or cancelled): a late successful chart answer is cancelled at the broker.
    var abandoned: Set<Int> = []
    var charts: [Int: ChartEntry] = [:]
    /// Broker subscription id → chart handle.
    var subscriptions: [Int: Int] = [:]
    /// Token strings the server refused (401, or closed the socket for as revoked/expired). Kept in memory only.
    private var refusedTokens: Set<String> = []
    /// The actions of the event being handled.
    private var output: [Action] = []

    init(configuration: MarketDataClientConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Hands the collected actions over.
    mutating func flush() -> [Action] {
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }

    mutating func emit(_ action: Action) {
        output.append(action)
    }

    // MARK: - Lifecycle

    /// `run()` starts. Returns false if it already runs or was stopped.
    mutating func start() -> Bool {
        guard phase == .idle else { return false }
        phase = .backoff
        return true
    }

    /// The connection loop wants to connect: returns the new connection's id, or nil when it must stop.
    mutating func connectionRequested() -> Int? {
        guard !shuttingDown, phase != .stopped else { return nil }
        nextConnectionID += 1
        connection = Connection(id: nextConnectionID)
        phase = .connecting
        return nextConnectionID
    }

    /// The handshake and authorization of connection `id` did not complete within the connect timeout.
    mutating func connectTimeoutFired(_ id: Int) -> [Action] {
        guard let connection, connection.id == id, phase != .ready, !shuttingDown else { return [] }
        let what = connection.established ? "authorization" : "connection"
        if connection.established { statistics.authorizationsFailed += 1 }
        reset(id, reason: "\(what) not completed within \(configuration.connectTimeout)")
        // A handshake that never completes has no session to end: cancel the attempt.
        emit(.cancelConnectionAttempt)
        return flush()
    }

    /// The handshake of connection `id` is done: the session's outbound queue exists. Returns false when the
    /// connection is stale (the shell closes that queue at once).
    mutating func sessionStarted(_ id: Int) -> Bool {
        guard connection?.id == id, !shuttingDown else { return false }
        connection?.established = true
        statistics.socketsOpened += 1
        logger.debug("market-data socket open", metadata: ["orca_connection": "\(id)"])
        return true
    }

    /// Connection `id` ended (its task returned). Fails or requeues its charts and says whether to reconnect.
    mutating func connectionEnded(_ id: Int, error: (any Error)?, closeCode: Int?) -> [Action] {
        guard let ended = connection, ended.id == id else { return [.stopConnecting] }
        connection = nil
        let wasAuthorized = ended.authorizedToken != nil
        let text: String
        if let reason = ended.closeReason {
            text = reason
        } else if let error, !(error is CancellationError) {
            text = "connection failed: \(Self.describe(error))"
        } else if let closeCode {
            text = "server closed the socket (code \(closeCode))"
        } else {
            text = "socket closed"
        }
        if !ended.established {
            statistics.connectFailures += 1
        } else if !shuttingDown {
            statistics.reconnects += 1
        }
        if !shuttingDown { noteError(text) }
        statistics.isConnected = false
        logger.debug("market-data socket ended", metadata: ["orca_connection": "\(id)", "orca_reason": "\(text)"])
        phase = shuttingDown ? .stopped : .backoff
        requests.removeAll()
        abandoned.removeAll()
        subscriptions.removeAll()
        for handle in charts.keys.sorted() { connectionLost(handle, reason: text) }
        publishCounts()
        if shuttingDown {
            emit(.stopConnecting)
        } else {
            failedConnections = wasAuthorized ? 0 : failedConnections + 1
            emit(.reconnect(attempt: max(1, failedConnections)))
        }
        return flush()
    }

    /// Graceful shutdown: cancel every chart at the broker and close the socket normally (``Action/closeOutgoing``);
    /// without an open socket the connection loop stops at once (``Action/stopConnecting``).
    mutating func shutdownRequested() -> [Action] {
        let first = !shuttingDown
        shuttingDown = true
        if first {
            for handle in charts.keys.sorted() {
                guard let entry = charts[handle] else { continue }
                if entry.phase == .streaming { sendCancel(entry) }
                fail(handle, CandleSourceError(.closed, "the market-data client is shutting down", chart: entry.chart))
            }
        }
        if let connection, connection.established {
            emit(.closeOutgoing)
        } else {
            emit(.stopConnecting)
        }
        return flush()
    }

    /// `run()` ended: fail everything still waiting.
    mutating func stopped() -> [Action] {
        shuttingDown = true
        phase = .stopped
        if connection?.established == true { emit(.closeOutgoing) }
        connection = nil
        for handle in charts.keys.sorted() {
            fail(handle, CandleSourceError(.closed, "the market-data client stopped", chart: charts[handle]?.chart))
        }
        statistics.isConnected = false
        publishCounts()
        return flush()
    }

    /// A heartbeat went out.
    mutating func heartbeatSent() {
        statistics.heartbeatsSent += 1
    }

    /// The delay before reconnecting after `attempt` failed connections in a row (1 after a connection that had been
    /// authorized): `min(cap, initial × multiplier^(attempt − 1)) × (1 − jitter × random)`.
    static func backoffDelay(
        attempt: Int, random: Double, configuration: MarketDataClientConfiguration
    ) -> Duration {
        let initial = ClientTime.seconds(configuration.backoffInitial)
        let cap = ClientTime.seconds(configuration.backoffCap)
        let base = min(cap, initial * pow(configuration.backoffMultiplier, Double(max(0, attempt - 1))))
        let jittered = base * (1 - configuration.backoffJitter * min(1, max(0, random)))
        return ClientTime.duration(jittered)
    }

    /// Ends the connection `id` on purpose (protocol violation, refused token, close frame, timeout): the session
    /// drains what is queued, closes the socket and the loop reconnects after the backoff.
    mutating func reset(_ id: Int, reason: String) {
        guard var current = connection, current.id == id else { return }
        if current.closeReason == nil { current.closeReason = reason }
        connection = current
        if current.established { emit(.closeOutgoing) }
    }

    mutating func makeRequestID() -> Int {
        nextRequestID += 1
        return nextRequestID
    }

    mutating func makeHandle() -> Int {
        nextHandle += 1
        return nextHandle
    }

    /// Whether new requests are accepted (not stopped, not shutting down).
    var acceptsRequests: Bool { phase != .stopped && !shuttingDown }

    /// Remembers that the server refused this token string.
    mutating func refuse(_ text: String) {
        refusedTokens.insert(text)
    }

    mutating func noteError(_ message: String) {
        emit(.noteError(message))
    }

    // MARK: - Authorization

    /// The token provider answered for connection `id`'s first authorization.
    mutating func tokenFetched(_ id: Int, _ result: Result<Token, any Error>) -> [Action] {
        switch result {
        case .success(let token):
            sendAuthorize(id, token: token, isReauthorization: false)
        case .failure(let error):
            authorizationImpossible(id, reason: "the token provider failed: \(Self.describe(error))")
        }
        return flush()
    }

    private mutating func authorizationImpossible(_ id: Int, reason: String) {
        guard connection?.id == id else { return }
        statistics.authorizationsFailed += 1
        logger.warning("market-data authorization impossible", metadata: ["orca_reason": "\(reason)"])
        reset(id, reason: reason)
    }

    /// The token strings to try for `token`, market-data token first, without those the server refused.
    private func candidates(for token: Token) -> [String] {
        var result: [String] = []
        for text in [token.marketDataToken, token.accessToken] where !text.isEmpty && !result.contains(text) {
            if !refusedTokens.contains(text) { result.append(text) }
        }
        return result
    }

    private mutating func sendAuthorize(_ id: Int, token: Token, isReauthorization: Bool) {
        guard let connection, connection.id == id, connection.established else { return }
        guard let text = candidates(for: token).first else {
            if isReauthorization { return }
            emit(.notifyTokenRefused(token))
            authorizationImpossible(
                id,
                reason: "the token provider returned a token the server already refused (fp \(token.fingerprint)); "
                    + "waiting for a renewed one")
            return
        }
        let requestID = makeRequestID()
        requests[requestID] = .authorize(
            AuthorizeAttempt(token: token, sent: text, isReauthorization: isReauthorization))
        emit(.send(MarketDataWire.authorize(id: requestID, token: text)))
        logger.debug(
            "authorize sent",
            metadata: [
                "orca_token_fp": "\(token.fingerprint)",
                "orca_token_kind": "\(text == token.marketDataToken ? "md" : "access")",
                "orca_reauthorization": "\(isReauthorization)",
            ])
        if isReauthorization {
            emit(.schedule(.reauthorization(connection: id, request: requestID, after: configuration.requestTimeout)))
        }
    }

    private mutating func reauthorizationTimedOut(_ id: Int, requestID: Int) {
        guard case .authorize = requests[requestID] else { return }
        requests.removeValue(forKey: requestID)
        statistics.authorizationsFailed += 1
        statistics.timeouts += 1
        reset(id, reason: "no answer to a re-authorization within \(configuration.requestTimeout)")
    }

    private mutating func handleAuthorizeResponse(_ response: MarketDataResponse, attempt: AuthorizeAttempt) {
        guard var current = connection else { return }
        if response.status == 200, case .none = response.payload {
            current.authorizedToken = attempt.token
            current.authorizedWith = attempt.sent
            connection = current
            statistics.authorizationsSucceeded += 1
            if attempt.isReauthorization { statistics.reauthorizations += 1 }
            statistics.isConnected = true
            logger.debug(
                "market-data socket authorized",
                metadata: [
                    "orca_token_fp": "\(attempt.token.fingerprint)", "orca_expires": "\(attempt.token.expirationTime)",
                ])
            if !attempt.isReauthorization {
                phase = .ready
                for handle in charts.keys.sorted() where charts[handle]?.phase == .waitingForConnection {
                    sendChartRequest(handle)
                }
                publishCounts()
            }
            return
        }
        statistics.authorizationsFailed += 1
        let detail = Self.payloadText(response.payload)
        if response.status == 401 {
            refusedTokens.insert(attempt.sent)
            if candidates(for: attempt.token).first != nil {
                logger.debug("authorize refused; trying the access token", metadata: ["orca_detail": "\(detail)"])
                sendAuthorize(current.id, token: attempt.token, isReauthorization: attempt.isReauthorization)
                return
            }
            if attempt.isReauthorization {
                noteError("a renewed token was refused (401 \(detail)); keeping the current authorization")
                return
            }
            noteError("authorize refused: 401 \(detail) (token fp \(attempt.token.fingerprint))")
            reset(current.id, reason: "authorize refused: 401 \(detail)")
            return
        }
        let reason: String
        if case .penalty(let ticket) = response.payload {
            statistics.penalties += 1
            reason = "authorize answered with a penalty ticket (p-time \(ticket.seconds) s)"
        } else {
            reason = "authorize answered with status \(response.status) \(detail)"
        }
        if attempt.isReauthorization {
            noteError(reason)
        } else {
            reset(current.id, reason: reason)
        }
    }

    /// The token connection `id` is authorized with, or nil when it is not authorized (yet).
    func authorizedToken(_ id: Int) -> Token? {
        guard let connection, connection.id == id else { return nil }
        return connection.authorizedToken
    }

    /// The token watcher found the provider's current token: re-authorize on the open socket when it was renewed.
    mutating func tokenRenewed(_ id: Int, token: Token) -> [Action] {
        guard let connection, connection.id == id, let current = connection.authorizedToken, phase == .ready else {
            return []
        }
        guard token.accessToken != current.accessToken || token.marketDataToken != current.marketDataToken else {
            return []
        }
        let pending = requests.values.contains {
            if case .authorize = $0 { return true }
            return false
        }
        guard !pending else { return [] }
        logger.debug(
            "re-authorizing with a renewed token",
            metadata: ["orca_old_fp": "\(current.fingerprint)", "orca_new_fp": "\(token.fingerprint)"])
        sendAuthorize(id, token: token, isReauthorization: true)
        return flush()
    }

    // MARK: - Receiving

    /// A frame arrived on connection `id`. The actions end with ``Action/stopReading`` when the session must stop
    /// reading (the socket closes).
    mutating func frameReceived(_ frame: MarketDataFrame, on id: Int) -> [Action] {
        guard connection?.id == id, connection?.established == true else { return [.stopReading] }
        switch frame {
        case .open:
            if phase == .connecting {
                phase = .authorizing
                emit(.fetchToken(connection: id))
            }
        case .heartbeat:
            break
        case .close(let code, let reason):
            if code == 3003 || code == 3004, let used = connection?.authorizedWith { refusedTokens.insert(used) }
            reset(id, reason: "server closed the session: c[\(code),\"\(Self.excerpt(reason))\"]")
            emit(.stopReading)
            return flush()
        case .messages(let messages):
            for message in messages {
                switch message {
                case .response(let response): handleResponse(response)
                case .chart(let packets): handlePackets(packets)
                case .shutdown(let code, let reason):
                    statistics.shutdownEvents += 1
                    reset(id, reason: "server shutdown event: \(code) \(Self.excerpt(reason ?? ""))")
                    emit(.stopReading)
                    return flush()
                case .event:
                    break
                }
                if connection?.id != id || connection?.established != true {
                    emit(.stopReading)
                    return flush()
                }
            }
        }
        if connection?.id != id { emit(.stopReading) }
        return flush()
    }

    /// A frame on connection `id` could not be parsed. The actions end with ``Action/stopReading`` when the
    /// connection is reset.
    mutating func malformedFrame(_ error: any Error, on id: Int) -> [Action] {
        guard var current = connection, current.id == id else { return [.stopReading] }
        current.malformedFrames += 1
        connection = current
        statistics.malformedFrames += 1
        logger.warning("malformed market-data frame", metadata: ["orca_error": "\(Self.excerpt("\(error)", 200))"])
        noteError("malformed frame: \(Self.excerpt("\(error)", 200))")
        if current.malformedFrames >= configuration.malformedFramesBeforeReset {
            reset(id, reason: "protocol violation: \(current.malformedFrames) malformed frame(s)")
            emit(.stopReading)
        }
        return flush()
    }

    private mutating func handleResponse(_ response: MarketDataResponse) {
        guard let outstanding = requests.removeValue(forKey: response.id) else {
            if abandoned.remove(response.id) != nil, case .chartSubscription(let result) = response.payload {
                for id in [result.historicalId, result.realtimeId].compactMap({ $0 }).uniqued() {
                    sendCancel(subscriptionID: id)
                }
            }
            return
        }
        switch outstanding {
        case .authorize(let attempt): handleAuthorizeResponse(response, attempt: attempt)
        case .cancel: break
        case .chart(let handle): handleChartResponse(response, handle: handle)
        }
    }

    // MARK: - Timers

    /// A timer the shell ran has fired.
    mutating func timerFired(_ timer: Timer) -> [Action] {
        switch timer {
        case .chart(let handle, let generation, let duration):
            chartTimerFired(handle, generation: generation, after: duration)
        case .penalty(let handle, let generation, _):
            penaltyWaitOver(handle, generation: generation)
        case .reauthorization(let id, let request, _):
            reauthorizationTimedOut(id, requestID: request)
        }
        return flush()
    }

    // MARK: - Helpers

    static func excerpt(_ text: String, _ limit: Int = 120) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }

    static func describe(_ error: any Error) -> String {
        excerpt("\(error)", 200)
    }

    static func payloadText(_ payload: MarketDataPayload) -> String {
        switch payload {
        case .none: return "(no payload)"
        case .text(let text): return excerpt(text)
        case .penalty(let ticket): return "penalty ticket (p-time \(ticket.seconds) s)"
        case .chartSubscription(let result):
            return excerpt(result.errorText ?? result.errorCode ?? "chart subscription")
        case .json(let json): return excerpt(json)
        }
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}

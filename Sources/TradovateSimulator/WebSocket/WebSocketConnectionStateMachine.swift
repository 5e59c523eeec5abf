import Foundation

/// The protocol logic of one market-data WebSocket, as a value: no sockets, no clocks, no locks.
///
/// ``WebSocketConnection`` (the I/O shell) feeds it events — a text frame arrived, a request is due, the token was
/// checked, a chart's history went out, a timer fired, a fault was injected, the socket is closing — and executes the
/// ``Action`` each event returns: queue a frame, close with a code, drop the socket, schedule a timer, start or stop a
/// chart stream. Modelled on postgres-nio's `ConnectionStateMachine`.
///
/// States: ``State/awaitingAuthorization`` → ``State/authorized(_:)`` ⇄ ``State/silenced(_:)`` (token expiry with
/// `.silence`; a new `authorize` lifts it) → ``State/closing(_:)`` (close frame queued or socket dropped; terminal).
struct WebSocketConnectionStateMachine: Sendable {
    /// The token a socket authorized with.
    struct Session: Sendable, Hashable {
        let token: String
        let expiresAt: Date?
        let user: String
    }

    /// Where the socket is in its life.
    enum State: Sendable, Hashable {
        /// Open; requests other than `authorize` get 401.
        case awaitingAuthorization
        /// Authorized: requests are served, charts stream.
        case authorized(Session)
        /// The token expired under ``SimulatorConfiguration/WebSocket/TokenExpiryBehaviour/silence``: no responses,
        /// no chart data, until a new successful `authorize`.
        case silenced(Session)
        /// A close frame is queued or the socket was dropped; the session (if any) is kept for bookkeeping.
        case closing(Session?)
    }

    /// One `md/getChart` subscription.
    struct Subscription: Sendable, Hashable {
        let historicalId: Int
        let realtimeId: Int
        let symbol: SimulatedMarket.ResolvedSymbol
        let minutes: Int
        /// Whether history went out and real-time updates flow.
        var realtime = false
        /// The last bar sent in real time (or the last history bar, when it is recent).
        var lastSent: AggregateBar?
    }

    /// How the socket is configured (a copy of the relevant settings).
    struct Configuration: Sendable {
        var heartbeatTimeout: TimeInterval?
        var authorizationTimeout: TimeInterval?
        var serverHeartbeatInterval: TimeInterval?
        var tokenExpiry: SimulatorConfiguration.WebSocket.TokenExpiryBehaviour
        var acceptQuotedToken: Bool
        var caseInsensitiveEndpoints: Bool
        var chartIDs: SimulatorConfiguration.Charts.IDs

        init(webSocket: SimulatorConfiguration.WebSocket, charts: SimulatorConfiguration.Charts) {
            heartbeatTimeout = webSocket.heartbeatTimeout?.timeInterval
            authorizationTimeout = webSocket.authorizationTimeout?.timeInterval
            serverHeartbeatInterval = webSocket.serverHeartbeatInterval?.timeInterval
            tokenExpiry = webSocket.tokenExpiry
            acceptQuotedToken = webSocket.acceptQuotedToken
            caseInsensitiveEndpoints = webSocket.caseInsensitiveEndpoints
            chartIDs = charts.ids
        }
    }

    /// What the access checks (rate limit, penalty tickets, forced penalties) decided for a request.
    enum AccessVerdict: Sendable, Hashable {
        /// Serve the request.
        case granted
        /// Too many requests: 429.
        case rateLimited
        /// A penalty: the response carries its terms.
        case penalty(JSONValue)
    }

    /// What a counted text frame does, decided just before it is written.
    enum FrameDecision: Sendable, Hashable {
        /// Write it.
        case send
        /// Write it, then drop the socket (drop-after-frames fault).
        case sendThenDrop
        /// Write it, then a malformed frame (malformed-after-frames fault).
        case sendThenMalformed
    }

    /// What the I/O shell does after an event.
    enum Action: Sendable {
        /// Nothing.
        case none
        /// Queue an item for the writer.
        case write(OutboundItem)
        /// Queue `c[code,"reason"]` and a close frame, then close.
        case close(code: Int, reason: String)
        /// Close the TCP connection at once.
        case drop
        /// A `[]` heartbeat arrived (count it).
        case heartbeatReceived
        /// A text frame that is not a request; the response, if the frame had an id and the socket is not silent.
        case malformedRequest(response: OutboundItem?)
        /// A request arrived: count it, apply any response delay, then feed ``requestStarted(_:now:)``.
        case requestReceived(WebSocketRequest)
        /// Check `token` for an `authorize` request, then feed ``authorizeSucceeded(requestID:session:)`` or
        /// ``authorizeFailed(requestID:)``.
        case authorize(requestID: Int, token: String)
        /// Run the access checks for a request on an authorized socket, then feed
        /// ``accessChecked(_:endpoint:token:verdict:)``.
        case checkAccess(WebSocketRequest, endpoint: String, token: String)
        /// Serve the request at the (canonical) endpoint.
        case dispatch(WebSocketRequest, endpoint: String, token: String)
        /// Respond, then stream the history of a new subscription.
        case startChart(Subscription, activeCharts: Int, response: OutboundItem?)
        /// A subscription was cancelled (`activeCharts` is `nil` when no id was given); respond.
        case chartCancelled(activeCharts: Int?, response: OutboundItem?)
        /// History went out: wake the real-time pump.
        case wakePump
        /// Watchdog: sleep until `deadline`, then feed ``watchdogFired(now:)``.
        case scheduleWatchdog(Date)
        /// Watchdog: queue `h`, then sleep until `next`.
        case sendServerHeartbeat(next: Date)
        /// Timer loops end (the socket is closing).
        case stopTimers
        /// Pump: send real-time updates for these subscriptions (feed ``realtimeBarsSent(realtimeID:lastSent:)``),
        /// then sleep until `wake` (or until woken).
        case streamCharts([Subscription], wake: Date?)
    }

    private(set) var state: State = .awaitingAuthorization
    /// Why the socket closed (the first reason recorded wins).
    private(set) var closeReason: String?
    private(set) var subscriptions: [Int: Subscription] = [:]
    /// Counted text frames sent.
    private(set) var framesSent = 0
    private var lastInbound: Date
    private var lastOutbound: Date
    private let openedAt: Date
    private var dropAtFrame: Int?
    private var malformedAtFrame: Int?
    private var nextChartID: Int
    private var textBuffer: [UInt8] = []
    private let configuration: Configuration

    /// A socket opened at `now`, with the frame-count faults armed for every new socket.
    init(
        configuration: Configuration, firstChartID: Int, now: Date, dropAtFrame: Int? = nil,
        malformedAtFrame: Int? = nil
    ) {
        self.configuration = configuration
        self.nextChartID = firstChartID
        self.lastInbound = now
        self.lastOutbound = now
        self.openedAt = now
        self.dropAtFrame = dropAtFrame
        self.malformedAtFrame = malformedAtFrame
    }

    // MARK: - Queries

    /// The session, in any state that has one.
    var session: Session? {
        switch state {
        case .awaitingAuthorization: return nil
        case .authorized(let session), .silenced(let session): return session
        case .closing(let session): return session
        }
    }

    /// The token this socket was last authorized with.
    var authorizedToken: String? { session?.token }

    /// Whether the socket is closing (close frame queued or dropped).
    var isClosing: Bool {
        if case .closing = state { return true }
        return false
    }

    /// Whether responses and chart data are suppressed (token expired under `.silence`).
    var isSilenced: Bool {
        if case .silenced = state { return true }
        return false
    }

    /// Whether a subscription's history should keep going.
    func isStreaming(realtimeID: Int) -> Bool {
        subscriptions[realtimeID] != nil && !isClosing
    }

    /// A response frame `{"s":status,"i":id,"d":payload}`, or `.none` while silenced.
    func respond(_ requestID: Int, status: Int, _ payload: JSONValue? = nil) -> Action {
        response(requestID, status: status, payload).map(Action.write) ?? .none
    }

    private func response(_ requestID: Int, status: Int, _ payload: JSONValue? = nil) -> OutboundItem? {
        if isSilenced { return nil }
        var text = "{\"s\":\(status),\"i\":\(requestID)"
        if let payload {
            text += ",\"d\":"
            payload.write(into: &text)
        }
        text += "}"
        return .messages([.json(text)])
    }

    // MARK: - Inbound frames

    /// A text (or continuation) frame arrived; a message is complete once `fin` is set.
    mutating func textReceived(_ bytes: [UInt8], fin: Bool, now: Date) -> Action {
        textBuffer.append(contentsOf: bytes)
        guard fin else { return .none }
        let text = String(decoding: textBuffer, as: UTF8.self)
        textBuffer.removeAll()
        lastInbound = now
        if text.trimmingCharacters(in: .whitespacesAndNewlines) == "[]" { return .heartbeatReceived }
        guard let request = WebSocketRequest(parsing: text) else {
            let response = WebSocketRequest.id(in: text).flatMap {
                self.response(
                    $0, status: 400,
                    .string("Malformed request: expected endpoint, id, query and body separated by \\n"))
            }
            return .malformedRequest(response: response)
        }
        return .requestReceived(request)
    }

    /// The client sent a close frame: answer it.
    mutating func clientClosed() -> Action {
        closeReason = closeReason ?? "client"
        return .write(.acknowledgeClose)
    }

    /// The inbound stream ended (client gone or read error).
    mutating func inputEnded() {
        closeReason = closeReason ?? "client"
    }

    // MARK: - Requests

    private func canonicalEndpoint(_ endpoint: String) -> String {
        let canonical = ["authorize", "md/getChart", "md/cancelChart", "auth/renewAccessToken"]
        if configuration.caseInsensitiveEndpoints {
            return canonical.first { $0.lowercased() == endpoint.lowercased() } ?? endpoint
        }
        return endpoint
    }

    /// A request is due (after any response delay).
    mutating func requestStarted(_ request: WebSocketRequest, now: Date) -> Action {
        let endpoint = canonicalEndpoint(request.endpoint)
        if endpoint == "authorize" {
            var token = request.body.trimmingCharacters(in: .whitespacesAndNewlines)
            if configuration.acceptQuotedToken, token.count >= 2, token.hasPrefix("\""), token.hasSuffix("\"") {
                token = String(token.dropFirst().dropLast())
            }
            return .authorize(requestID: request.id, token: token)
        }
        guard let token = authorizedToken else { return respond(request.id, status: 401, .string("Access is denied")) }
        switch enforceTokenExpiry(now: now) {
        case .live: return .checkAccess(request, endpoint: endpoint, token: token)
        case .ignore: return .none
        case .close(let code, let reason): return .close(code: code, reason: reason)
        }
    }

    /// `authorize` with a valid, accepted token.
    mutating func authorizeSucceeded(requestID: Int, session: Session) -> Action {
        if case .closing = state {
            state = .closing(session)
        } else {
            state = .authorized(session)
        }
        return respond(requestID, status: 200)
    }

    /// `authorize` with a bad token.
    mutating func authorizeFailed(requestID: Int) -> Action {
        respond(requestID, status: 401, .string("Access is denied"))
    }

    /// The access checks for a request on an authorized socket are done.
    mutating func accessChecked(
        _ request: WebSocketRequest, endpoint: String, token: String, verdict: AccessVerdict
    ) -> Action {
        switch verdict {
        case .granted: return .dispatch(request, endpoint: endpoint, token: token)
        case .rateLimited: return respond(request.id, status: 429)
        case .penalty(let terms): return respond(request.id, status: 200, terms)
        }
    }

    /// A valid `md/getChart`: opens a subscription with fresh ids.
    mutating func chartRequested(
        requestID: Int, symbol: SimulatedMarket.ResolvedSymbol, minutes: Int
    ) -> Action {
        let base = nextChartID
        let historicalID: Int
        let realtimeID: Int
        switch configuration.chartIDs {
        case .equal:
            nextChartID += 1
            (historicalID, realtimeID) = (base, base)
        case .distinct:
            nextChartID += 2
            (historicalID, realtimeID) = (base + 1, base)
        }
        let subscription = Subscription(
            historicalId: historicalID, realtimeId: realtimeID, symbol: symbol, minutes: minutes)
        subscriptions[realtimeID] = subscription
        let payload = JSONValue.object(["historicalId": .int(historicalID), "realtimeId": .int(realtimeID)])
        return .startChart(
            subscription, activeCharts: subscriptions.count, response: response(requestID, status: 200, payload))
    }

    /// `md/cancelChart` naming either id of a subscription (unknown ids are answered 200 too).
    mutating func chartCancelled(requestID: Int, subscriptionID: Int?) -> Action {
        var remaining: Int? = nil
        if let target = subscriptionID {
            let match = subscriptions.first { $0.value.historicalId == target || $0.value.realtimeId == target }
            if let key = match?.key { subscriptions[key] = nil }
            remaining = subscriptions.count
        }
        return .chartCancelled(activeCharts: remaining, response: response(requestID, status: 200))
    }

    /// A subscription's history went out; `lastSent` is its newest bar when real time continues from it.
    mutating func historySent(realtimeID: Int, lastSent: AggregateBar?) -> Action {
        subscriptions[realtimeID]?.realtime = true
        if let lastSent { subscriptions[realtimeID]?.lastSent = lastSent }
        return .wakePump
    }

    /// Real-time updates for a subscription went out (or were computed empty); `lastSent` is its new last bar.
    mutating func realtimeBarsSent(realtimeID: Int, lastSent: AggregateBar?) {
        if subscriptions[realtimeID] != nil { subscriptions[realtimeID]?.lastSent = lastSent }
    }

    // MARK: - Timers

    private enum Expiry {
        case live
        case ignore
        case close(code: Int, reason: String)
    }

    /// Applies the token-expiry behaviour at `now` (simulation clock).
    private mutating func enforceTokenExpiry(now: Date) -> Expiry {
        guard configuration.tokenExpiry != .keepOpen, let session, let expiry = session.expiresAt, expiry <= now else {
            return isSilenced || isClosing ? .ignore : .live
        }
        switch configuration.tokenExpiry {
        case .close:
            closeReason = closeReason ?? "tokenExpired"
            if case .close(let code, let reason) = closeRequested(
                code: CloseCode.tokenExpired, reason: "Access token expired")
            {
                return .close(code: code, reason: reason)
            }
            return .ignore
        case .silence, .keepOpen:
            if case .authorized(let session) = state { state = .silenced(session) }
            return .ignore
        }
    }

    /// The real-time pump is due (simulation clock): token expiry, then the subscriptions to update.
    mutating func pumpFired(now: Date) -> Action {
        if isClosing { return .stopTimers }
        var wake: Date? = nil
        if let expiry = session?.expiresAt, configuration.tokenExpiry != .keepOpen {
            if expiry <= now {
                let outcome = enforceTokenExpiry(now: now)
                if configuration.tokenExpiry == .close {
                    if case .close(let code, let reason) = outcome { return .close(code: code, reason: reason) }
                    return .stopTimers
                }
            } else {
                wake = expiry
            }
        }
        if isSilenced { return .streamCharts([], wake: wake) }
        let due = subscriptions.values.filter(\.realtime).sorted { $0.realtimeId < $1.realtimeId }
        return .streamCharts(due, wake: wake)
    }

    /// The watchdog is due (wall clock): heartbeat timeout, authorization timeout, server heartbeat.
    mutating func watchdogFired(now: Date) -> Action {
        if isClosing { return .stopTimers }
        var deadlines: [Date] = []
        if let timeout = configuration.heartbeatTimeout {
            let due = lastInbound.addingTimeInterval(timeout)
            if now >= due {
                closeReason = closeReason ?? "heartbeatTimeout"
                return closeRequested(code: CloseCode.heartbeatTimeout, reason: "Heartbeat timeout")
            }
            deadlines.append(due)
        }
        if let timeout = configuration.authorizationTimeout, session == nil {
            let due = openedAt.addingTimeInterval(timeout)
            if now >= due {
                closeReason = closeReason ?? "authorizationTimeout"
                return closeRequested(code: CloseCode.authorizationTimeout, reason: "Not authorized")
            }
            deadlines.append(due)
        }
        if let interval = configuration.serverHeartbeatInterval {
            let due = lastOutbound.addingTimeInterval(interval)
            if now >= due {
                lastOutbound = now
                deadlines.append(now.addingTimeInterval(interval))
                return .sendServerHeartbeat(next: deadlines.min()!)
            }
            deadlines.append(due)
        }
        return .scheduleWatchdog(deadlines.min() ?? .distantFuture)
    }

    // MARK: - Outbound frames and faults

    /// A counted text frame is about to be written at `now` (wall clock); applies the frame-count faults. The frame
    /// is counted before it is written, so a fault armed after the client saw it counts from the next one.
    mutating func frameWillBeSent(now: Date) -> FrameDecision {
        framesSent += 1
        lastOutbound = now
        let malformed = malformedAtFrame.map { framesSent >= $0 } ?? false
        if malformed { malformedAtFrame = nil }
        if dropAtFrame.map({ framesSent >= $0 }) ?? false { return .sendThenDrop }
        return malformed ? .sendThenMalformed : .send
    }

    /// The socket was dropped by the drop-after-frames fault.
    mutating func frameDropped() {
        enterClosing(reason: "dropped")
    }

    /// Drop the socket once it has sent `count` more frames.
    mutating func dropArmed(afterFrames count: Int) {
        dropAtFrame = framesSent + max(0, count)
    }

    /// Send a malformed frame once the socket has sent `count` more frames.
    mutating func malformedArmed(afterFrames count: Int) {
        malformedAtFrame = framesSent + max(0, count)
    }

    /// Close with `c[code,"reason"]` and a close frame; `.none` if already closing.
    mutating func closeRequested(code: Int, reason: String) -> Action {
        if isClosing { return .none }
        enterClosing(reason: reason)
        return .close(code: code, reason: reason)
    }

    /// Drop the TCP connection at once (always acted on).
    mutating func dropRequested(reason: String) -> Action {
        enterClosing(reason: reason)
        return .drop
    }

    private mutating func enterClosing(reason: String) {
        closeReason = closeReason ?? reason
        if !isClosing { state = .closing(session) }
    }
}

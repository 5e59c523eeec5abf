public import Collectors
import CandleCore
import Foundation
import Logging

/// The client's state machine: connection phase, outstanding requests, chart entries and their routing. All protocol
/// decisions are made here, on one actor; the socket I/O (reading, writing, heartbeats, token checks) runs in the
/// session's tasks and calls in.
actor ClientCore {
    /// Where the connection is.
    enum Phase: Equatable {
        /// `run()` has not started.
        case idle
        /// Connecting, or waiting for `o`.
        case connecting
        /// `authorize` sent.
        case authorizing
        /// Authorized: requests go out.
        case ready
        /// Between connections.
        case backoff
        /// `run()` ended: every request fails with `closed`.
        case stopped
    }

    /// What an outstanding request id is for.
    private enum Outstanding {
        case authorize(AuthorizeAttempt)
        case chart(handle: Int)
        case cancel
    }

    /// One `authorize` in flight.
    private struct AuthorizeAttempt {
        let token: Token
        let sent: String
        let isReauthorization: Bool
    }

    /// The current connection.
    private struct Connection {
        let id: Int
        var outgoing: AsyncStream<String>.Continuation?
        var task: (any CancellableTask)?
        var established = false
        var authorizedToken: Token?
        var authorizedWith: String?
        var malformedFrames = 0
        var timer: Task<Void, Never>?
        var closeReason: String?
    }

    let configuration: MarketDataClientConfiguration
    private let tokenProvider: @Sendable () async throws -> Token
    private let clock: any Clock<Duration>
    private let wallClock: any WallClock
    private let logger: Logger
    let recorder: StatisticsRecorder

    private(set) var phase: Phase = .idle
    private var shuttingDown = false
    private var connection: Connection?
    private var nextConnectionID = 0
    private var nextRequestID = 0
    private var nextHandle = 0
    private var requests: [Int: Outstanding] = [:]
    /// Request ids given up on (timed out or cancelled): a late successful chart answer is cancelled at the broker.
    private var abandoned: Set<Int> = []
    private var charts: [Int: ChartEntry] = [:]
    /// Broker subscription id → chart handle.
    private var subscriptions: [Int: Int] = [:]
    /// Token strings the server refused (401, or closed the socket for as revoked/expired). Kept in memory only.
    private var refusedTokens: Set<String> = []
    /// Told when the provider hands out a token the server already refused (so the provider can log in again).
    private let onTokenRefused: (@Sendable (Token) async -> Void)?

    init(
        configuration: MarketDataClientConfiguration, tokenProvider: @escaping @Sendable () async throws -> Token,
        onTokenRefused: (@Sendable (Token) async -> Void)? = nil,
        clock: any Clock<Duration>, wallClock: any WallClock, logger: Logger, recorder: StatisticsRecorder
    ) {
        self.configuration = configuration
        self.tokenProvider = tokenProvider
        self.onTokenRefused = onTokenRefused
        self.clock = clock
        self.wallClock = wallClock
        self.logger = logger
        self.recorder = recorder
    }

    // MARK: - Lifecycle (called by the run loop)

    /// Marks the client running. Returns false if it already runs or was stopped.
    func start() -> Bool {
        guard phase == .idle else { return false }
        phase = .backoff
        return true
    }

    var isShuttingDown: Bool { shuttingDown }

    /// Starts a connection attempt; returns its id, or nil when shutting down.
    func beginConnection() -> Int? {
        guard !shuttingDown, phase != .stopped else { return nil }
        nextConnectionID += 1
        let id = nextConnectionID
        connection = Connection(id: id)
        phase = .connecting
        connection?.timer = Task { [clock, configuration] in
            try? await clock.sleep(for: configuration.connectTimeout)
            guard !Task.isCancelled else { return }
            self.connectTimedOut(id)
        }
        return id
    }

    /// The task running connection `id` (cancelled when the handshake does not complete in time).
    func setConnectionTask(_ id: Int, _ task: some CancellableTask) {
        guard connection?.id == id else {
            task.cancel()
            return
        }
        connection?.task = task
    }

    private func connectTimedOut(_ id: Int) {
        guard let connection, connection.id == id, phase != .ready else { return }
        let what = connection.established ? "authorization" : "connection"
        if connection.established { recorder.update { $0.authorizationsFailed += 1 } }
        reset(id, reason: "\(what) not completed within \(configuration.connectTimeout)")
        // A handshake that never completes has no session to end: cancel the connection's task.
        connection.task?.cancel()
    }

    /// The handshake is done: the session hands its outbound queue over. Returns false when the connection is stale.
    func sessionStarted(_ id: Int, outgoing: AsyncStream<String>.Continuation) -> Bool {
        guard connection?.id == id, !shuttingDown else {
            outgoing.finish()
            return false
        }
        connection?.outgoing = outgoing
        connection?.established = true
        recorder.update { $0.socketsOpened += 1 }
        logger.debug("market-data socket open", metadata: ["orca_connection": "\(id)"])
        return true
    }

    /// The connection `id` ended (its task returned). Returns whether it had been authorized (the backoff restarts).
    func connectionEnded(_ id: Int, error: (any Error)?, closeCode: Int?) -> Bool {
        guard let ended = connection, ended.id == id else { return false }
        connection = nil
        ended.timer?.cancel()
        ended.outgoing?.finish()
        let wasAuthorized = ended.authorizedToken != nil
        var reason = ended.closeReason
        if reason == nil {
            if let error, !(error is CancellationError) {
                reason = "connection failed: \(Self.describe(error))"
            } else if let closeCode {
                reason = "server closed the socket (code \(closeCode))"
            } else {
                reason = "socket closed"
            }
        }
        let text = reason ?? "socket closed"
        if !ended.established {
            recorder.update { $0.connectFailures += 1 }
        } else if !shuttingDown {
            recorder.update { $0.reconnects += 1 }
        }
        if !shuttingDown { noteError(text) }
        recorder.update { $0.isConnected = false }
        logger.debug(
            "market-data socket ended", metadata: ["orca_connection": "\(id)", "orca_reason": "\(text)"])
        phase = shuttingDown ? .stopped : .backoff
        requests.removeAll()
        abandoned.removeAll()
        subscriptions.removeAll()
        for handle in Array(charts.keys) { connectionLost(handle, reason: text) }
        publishCounts()
        return wasAuthorized
    }

    /// Graceful shutdown: cancel every chart at the broker and close the socket normally. Returns whether an open
    /// socket is being closed (otherwise the caller stops the connection loop itself).
    func beginShutdown() -> Bool {
        let first = !shuttingDown
        shuttingDown = true
        if first {
            for handle in Array(charts.keys) {
                if let entry = charts[handle], entry.phase == .streaming { sendCancel(entry) }
                fail(
                    handle,
                    CandleSourceError(.closed, "the market-data client is shutting down", chart: charts[handle]?.chart))
            }
        }
        guard let connection else { return false }
        connection.timer?.cancel()
        if let outgoing = connection.outgoing {
            outgoing.finish()
            return true
        }
        connection.task?.cancel()
        return false
    }

    /// `run()` ended: fail everything still waiting.
    func stop() {
        shuttingDown = true
        phase = .stopped
        connection?.timer?.cancel()
        connection?.outgoing?.finish()
        connection = nil
        for handle in Array(charts.keys) {
            fail(handle, CandleSourceError(.closed, "the market-data client stopped", chart: charts[handle]?.chart))
        }
        recorder.update { $0.isConnected = false }
        publishCounts()
    }

    // MARK: - Requests (called by MarketDataClient)

    /// Registers a history page and waits for its bars.
    func historyPage(
        of chart: ChartKey, closestTimestamp: Date?, asFarAsTimestamp: Date?, asMuchAsElements: Int?
    ) async throws -> [ChartBar] {
        if phase == .stopped || shuttingDown {
            throw CandleSourceError(.closed, "the market-data client is not running", chart: chart)
        }
        nextHandle += 1
        let handle = nextHandle
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[ChartBar], any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                charts[handle] = ChartEntry(
                    handle: handle, chart: chart, kind: .history(continuation), closestTimestamp: closestTimestamp,
                    asFarAsTimestamp: asFarAsTimestamp, asMuchAsElements: asMuchAsElements)
                submit(handle)
            }
        } onCancel: {
            Task { await self.cancelEntry(handle) }
        }
    }

    /// Registers a live subscription and waits for the broker's first answer.
    func live(
        _ chart: ChartKey, asMuchAsElements: Int
    ) async throws -> AsyncThrowingStream<LiveChartEvent, any Error> {
        if phase == .stopped || shuttingDown {
            throw CandleSourceError(.closed, "the market-data client is not running", chart: chart)
        }
        nextHandle += 1
        let handle = nextHandle
        let (stream, events) = AsyncThrowingStream.makeStream(of: LiveChartEvent.self)
        events.onTermination = { _ in Task { await self.cancelEntry(handle) } }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                var entry = ChartEntry(
                    handle: handle, chart: chart, kind: .live(events), closestTimestamp: nil, asFarAsTimestamp: nil,
                    asMuchAsElements: asMuchAsElements)
                entry.subscribeContinuation = continuation
                charts[handle] = entry
                submit(handle)
            }
        } onCancel: {
            Task { await self.cancelEntry(handle) }
        }
        return stream
    }

    /// The caller went away (task cancelled, or the live stream's consumer stopped).
    private func cancelEntry(_ handle: Int) {
        guard let entry = charts[handle] else { return }
        if entry.phase == .streaming { sendCancel(entry) }
        if entry.phase == .awaitingResponse, let id = entry.requestID { abandoned.insert(id) }
        fail(handle, CancellationError())
    }

    // MARK: - Sending

    private func submit(_ handle: Int) {
        guard charts[handle] != nil else { return }
        if phase == .ready, connection?.outgoing != nil {
            sendChartRequest(handle)
        } else {
            charts[handle]?.phase = .waitingForConnection
            // Live subscriptions wait for the connection as long as it takes once they were made; a first
            // subscription and history pages give up after connectionWaitTimeout.
            if charts[handle]?.isLive == false || charts[handle]?.subscribeContinuation != nil {
                startTimer(handle, after: configuration.connectionWaitTimeout)
            } else {
                stopTimer(handle)
            }
        }
    }

    private func sendChartRequest(_ handle: Int) {
        guard var entry = charts[handle], let outgoing = connection?.outgoing else { return }
        let id = makeRequestID()
        requests[id] = .chart(handle: handle)
        entry.requestID = id
        entry.phase = .awaitingResponse
        entry.historicalID = nil
        entry.realtimeID = nil
        entry.pastEndOfHistory = false
        entry.bars.removeAll(keepingCapacity: true)
        let text = MarketDataWire.request(endpoint: "md/getChart", id: id, body: entry.requestBody)
        charts[handle] = entry
        outgoing.yield(text)
        recorder.update { $0.chartRequests += 1 }
        startTimer(handle, after: configuration.requestTimeout)
    }

    private func sendCancel(_ entry: ChartEntry) {
        var ids: [Int] = []
        switch configuration.cancelChartID {
        case .realtime: ids = [entry.realtimeID ?? entry.historicalID].compactMap { $0 }
        case .historical: ids = [entry.historicalID ?? entry.realtimeID].compactMap { $0 }
        case .both: ids = entry.subscriptionIDs
        }
        for subscription in entry.subscriptionIDs { subscriptions.removeValue(forKey: subscription) }
        for subscription in ids { sendCancel(subscriptionID: subscription) }
    }

    private func sendCancel(subscriptionID: Int) {
        guard let outgoing = connection?.outgoing else { return }
        let id = makeRequestID()
        requests[id] = .cancel
        outgoing.yield(
            MarketDataWire.request(
                endpoint: "md/cancelChart", id: id, body: MarketDataWire.cancelChartBody(subscriptionId: subscriptionID)
            ))
        recorder.update { $0.chartCancels += 1 }
    }

    private func makeRequestID() -> Int {
        nextRequestID += 1
        return nextRequestID
    }

    /// Ends the connection `id` on purpose (protocol violation, refused token, close frame, timeout): the session
    /// drains what is queued, closes the socket and the run loop reconnects after the backoff.
    private func reset(_ id: Int, reason: String) {
        guard var current = connection, current.id == id else { return }
        if current.closeReason == nil { current.closeReason = reason }
        current.outgoing?.finish()
        connection = current
    }

    // MARK: - Authorization

    /// Asks the token provider and sends `authorize` (after `o`).
    private func authorizeConnection(_ id: Int) {
        phase = .authorizing
        Task { [tokenProvider] in
            do {
                let token = try await tokenProvider()
                self.sendAuthorize(id, token: token, isReauthorization: false)
            } catch {
                self.authorizationImpossible(id, reason: "the token provider failed: \(Self.describe(error))")
            }
        }
    }

    private func authorizationImpossible(_ id: Int, reason: String) {
        guard connection?.id == id else { return }
        recorder.update { $0.authorizationsFailed += 1 }
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

    func sendAuthorize(_ id: Int, token: Token, isReauthorization: Bool) {
        guard let connection, connection.id == id, let outgoing = connection.outgoing else { return }
        guard let text = candidates(for: token).first else {
            if isReauthorization { return }
            if let onTokenRefused { Task { await onTokenRefused(token) } }
            authorizationImpossible(
                id,
                reason: "the token provider returned a token the server already refused (fp \(token.fingerprint)); "
                    + "waiting for a renewed one")
            return
        }
        let requestID = makeRequestID()
        requests[requestID] = .authorize(
            AuthorizeAttempt(token: token, sent: text, isReauthorization: isReauthorization))
        outgoing.yield(MarketDataWire.authorize(id: requestID, token: text))
        logger.debug(
            "authorize sent",
            metadata: [
                "orca_token_fp": "\(token.fingerprint)",
                "orca_token_kind": "\(text == token.marketDataToken ? "md" : "access")",
                "orca_reauthorization": "\(isReauthorization)",
            ])
        if isReauthorization {
            let timeout = configuration.requestTimeout
            Task { [clock] in
                try? await clock.sleep(for: timeout)
                self.reauthorizationTimedOut(id, requestID: requestID)
            }
        }
    }

    private func reauthorizationTimedOut(_ id: Int, requestID: Int) {
        guard case .authorize = requests[requestID] else { return }
        requests.removeValue(forKey: requestID)
        recorder.update {
            $0.authorizationsFailed += 1
            $0.timeouts += 1
        }
        reset(id, reason: "no answer to a re-authorization within \(configuration.requestTimeout)")
    }

    private func handleAuthorizeResponse(_ response: MarketDataResponse, attempt: AuthorizeAttempt) {
        guard var current = connection else { return }
        if response.status == 200, case .none = response.payload {
            current.authorizedToken = attempt.token
            current.authorizedWith = attempt.sent
            connection = current
            recorder.update {
                $0.authorizationsSucceeded += 1
                if attempt.isReauthorization { $0.reauthorizations += 1 }
                $0.isConnected = true
            }
            logger.debug(
                "market-data socket authorized",
                metadata: [
                    "orca_token_fp": "\(attempt.token.fingerprint)", "orca_expires": "\(attempt.token.expirationTime)",
                ])
            if !attempt.isReauthorization {
                phase = .ready
                current.timer?.cancel()
                for handle in charts.keys.sorted() where charts[handle]?.phase == .waitingForConnection {
                    sendChartRequest(handle)
                }
                publishCounts()
            }
            return
        }
        recorder.update { $0.authorizationsFailed += 1 }
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
            recorder.update { $0.penalties += 1 }
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

    /// The session's token watcher: the token the socket is authorized with, or nil when not authorized (yet).
    func authorizedToken(_ id: Int) -> Token? {
        guard let connection, connection.id == id else { return nil }
        return connection.authorizedToken
    }

    /// The token watcher found a renewed token: re-authorize on the open socket.
    func renewed(_ id: Int, token: Token) {
        guard let connection, connection.id == id, let current = connection.authorizedToken, phase == .ready else {
            return
        }
        guard token.accessToken != current.accessToken || token.marketDataToken != current.marketDataToken else {
            return
        }
        let pending = requests.values.contains {
            if case .authorize = $0 { return true }
            return false
        }
        guard !pending else { return }
        logger.debug(
            "re-authorizing with a renewed token",
            metadata: ["orca_old_fp": "\(current.fingerprint)", "orca_new_fp": "\(token.fingerprint)"])
        sendAuthorize(id, token: token, isReauthorization: true)
    }

    // MARK: - Receiving

    /// A frame arrived on connection `id`. Returns false when the session must stop reading (the socket closes).
    func receive(_ frame: MarketDataFrame, on id: Int) -> Bool {
        guard connection?.id == id, connection?.outgoing != nil else { return false }
        switch frame {
        case .open:
            if phase == .connecting { authorizeConnection(id) }
        case .heartbeat:
            break
        case .close(let code, let reason):
            if code == 3003 || code == 3004, let used = connection?.authorizedWith { refusedTokens.insert(used) }
            reset(id, reason: "server closed the session: c[\(code),\"\(Self.excerpt(reason))\"]")
            return false
        case .messages(let messages):
            for message in messages {
                switch message {
                case .response(let response): handleResponse(response)
                case .chart(let packets): handlePackets(packets)
                case .shutdown(let code, let reason):
                    recorder.update { $0.shutdownEvents += 1 }
                    reset(id, reason: "server shutdown event: \(code) \(Self.excerpt(reason ?? ""))")
                    return false
                case .event:
                    break
                }
                if connection?.id != id || connection?.outgoing == nil { return false }
            }
        }
        return connection?.id == id
    }

    /// A frame on connection `id` could not be parsed. Returns false when the connection is reset.
    func malformed(_ error: any Error, on id: Int) -> Bool {
        guard var current = connection, current.id == id else { return false }
        current.malformedFrames += 1
        connection = current
        recorder.update { $0.malformedFrames += 1 }
        logger.warning("malformed market-data frame", metadata: ["orca_error": "\(Self.excerpt("\(error)", 200))"])
        noteError("malformed frame: \(Self.excerpt("\(error)", 200))")
        if current.malformedFrames >= configuration.malformedFramesBeforeReset {
            reset(id, reason: "protocol violation: \(current.malformedFrames) malformed frame(s)")
            return false
        }
        return true
    }

    /// Counts a heartbeat sent.
    nonisolated func heartbeatSent() {
        recorder.update { $0.heartbeatsSent += 1 }
    }

    private func handleResponse(_ response: MarketDataResponse) {
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

    private func handleChartResponse(_ response: MarketDataResponse, handle: Int) {
        guard var entry = charts[handle], entry.requestID == response.id else { return }
        let chart = entry.chart
        switch (response.status, response.payload) {
        case (200, .penalty(let ticket)):
            recorder.update { $0.penalties += 1 }
            if ticket.captcha {
                fail(
                    handle,
                    CandleSourceError(
                        .rateLimited, "the server asked for a captcha (penalty ticket): wait about an hour",
                        chart: chart))
                return
            }
            let wait = ClientTime.duration(ticket.seconds)
            guard entry.penaltiesInARow < configuration.maximumPenaltyRetries, wait <= configuration.maximumPenaltyWait
            else {
                fail(
                    handle,
                    CandleSourceError(
                        .rateLimited,
                        "penalty ticket (p-time \(ticket.seconds) s) after \(entry.penaltiesInARow) waited out; "
                            + "giving up", chart: chart))
                return
            }
            entry.penaltiesInARow += 1
            entry.penaltyTicket = ticket.ticket
            entry.phase = .penaltyWait
            entry.requestID = nil
            charts[handle] = entry
            logger.debug(
                "penalty ticket: waiting", metadata: ["orca_chart": "\(chart)", "orca_p_time": "\(ticket.seconds)"])
            let generation = nextTimerGeneration(handle)
            charts[handle]?.timer = Task { [wallClock] in
                do {
                    try await wallClock.sleep(for: ticket.seconds)
                } catch {
                    return
                }
                self.penaltyWaitOver(handle, generation: generation)
            }
        case (200, .chartSubscription(let result)):
            if let code = result.errorCode, code != "Success" {
                fail(handle, Self.chartError(code: code, text: result.errorText, chart: chart))
                return
            }
            guard result.historicalId != nil || result.realtimeId != nil else {
                let text = result.errorText.map { ": \(Self.excerpt($0))" } ?? ""
                fail(
                    handle,
                    CandleSourceError(
                        .unavailable, "md/getChart answered without subscription ids\(text)", chart: chart))
                return
            }
            entry.historicalID = result.historicalId
            entry.realtimeID = result.realtimeId
            entry.phase = .streaming
            entry.penaltiesInARow = 0
            entry.penaltyTicket = nil
            for id in entry.subscriptionIDs { subscriptions[id] = handle }
            let wasInterrupted = entry.interrupted
            entry.interrupted = false
            let subscribed = entry.subscribeContinuation
            entry.subscribeContinuation = nil
            charts[handle] = entry
            if case .live(let events) = entry.kind {
                stopTimer(handle)
                subscribed?.resume()
                if wasInterrupted { events.yield(.resumed) }
            } else {
                startTimer(handle, after: configuration.historyInactivityTimeout)
            }
            publishCounts()
        case (200, _):
            fail(
                handle,
                CandleSourceError(
                    .protocolViolation,
                    "md/getChart answered 200 with an unexpected payload: "
                        + Self.payloadText(response.payload), chart: chart))
        case (429, _):
            recorder.update { $0.rateLimited += 1 }
            fail(handle, CandleSourceError(.rateLimited, "the server rate-limited md/getChart (429)", chart: chart))
        case (401, _):
            // The socket lost its authorization (e.g. the token expired with `silence`): reconnect and resend.
            if let id = connection?.id {
                if let used = connection?.authorizedWith { refusedTokens.insert(used) }
                reset(id, reason: "md/getChart answered 401: the socket is no longer authorized")
            }
        case (400, _):
            fail(
                handle,
                CandleSourceError(
                    .invalidRequest, "md/getChart refused (400): \(Self.payloadText(response.payload))", chart: chart))
        case (404, _):
            fail(
                handle,
                CandleSourceError(
                    .notSupported, "md/getChart not found (404): \(Self.payloadText(response.payload))", chart: chart))
        default:
            fail(
                handle,
                CandleSourceError(
                    .unavailable, "md/getChart answered \(response.status): \(Self.payloadText(response.payload))",
                    chart: chart))
        }
    }

    private func penaltyWaitOver(_ handle: Int, generation: Int) {
        guard let entry = charts[handle], entry.timerGeneration == generation, entry.phase == .penaltyWait else {
            return
        }
        submit(handle)
    }

    private func handlePackets(_ packets: [ChartPacket]) {
        var bars = 0
        for packet in packets {
            bars += packet.bars.count
            guard let handle = subscriptions[packet.id], var entry = charts[handle] else { continue }
            switch entry.kind {
            case .history(let continuation):
                entry.bars.append(contentsOf: packet.bars)
                if packet.endOfHistory {
                    let collected = entry.bars
                    entry.bars = []
                    sendCancel(entry)
                    entry.kind = .history(nil)
                    charts[handle] = entry
                    remove(handle)
                    continuation?.resume(returning: collected)
                } else {
                    charts[handle] = entry
                    startTimer(handle, after: configuration.historyInactivityTimeout)
                }
            case .live(let events):
                if entry.pastEndOfHistory {
                    for bar in packet.bars { events.yield(.bar(bar.candle(of: entry.chart, isFinal: false))) }
                } else if packet.endOfHistory {
                    entry.pastEndOfHistory = true
                    charts[handle] = entry
                }
            }
        }
        if bars > 0 { recorder.update { $0.barsReceived += bars } }
    }

    // MARK: - Entries

    private func connectionLost(_ handle: Int, reason: String) {
        guard var entry = charts[handle] else { return }
        switch entry.phase {
        case .waitingForConnection, .penaltyWait:
            return
        case .awaitingResponse, .streaming:
            break
        }
        stopTimer(handle)
        entry = charts[handle] ?? entry
        entry.historicalID = nil
        entry.realtimeID = nil
        entry.requestID = nil
        entry.bars = []
        switch entry.kind {
        case .history:
            entry.attempts += 1
            charts[handle] = entry
            if entry.attempts >= configuration.historyAttempts {
                fail(
                    handle,
                    CandleSourceError(
                        .unavailable, "the connection broke \(entry.attempts) time(s) during the request: \(reason)",
                        chart: entry.chart))
                return
            }
        case .live(let events):
            if entry.subscribeContinuation == nil, !entry.interrupted {
                entry.interrupted = true
                events.yield(.interrupted(reason: reason))
            }
            charts[handle] = entry
        }
        submit(handle)
    }

    private func nextTimerGeneration(_ handle: Int) -> Int {
        charts[handle]?.timer?.cancel()
        charts[handle]?.timerGeneration += 1
        return charts[handle]?.timerGeneration ?? 0
    }

    private func startTimer(_ handle: Int, after duration: Duration) {
        let generation = nextTimerGeneration(handle)
        charts[handle]?.timer = Task { [clock] in
            do {
                try await clock.sleep(for: duration)
            } catch {
                return
            }
            self.timerFired(handle, generation: generation, after: duration)
        }
    }

    private func stopTimer(_ handle: Int) {
        _ = nextTimerGeneration(handle)
        charts[handle]?.timer = nil
    }

    private func timerFired(_ handle: Int, generation: Int, after duration: Duration) {
        guard let entry = charts[handle], entry.timerGeneration == generation else { return }
        let chart = entry.chart
        switch entry.phase {
        case .waitingForConnection:
            noteError("no market-data connection within \(duration)")
            fail(
                handle,
                CandleSourceError(
                    .unavailable, "no connected, authorized market-data socket within \(duration)", chart: chart))
        case .awaitingResponse:
            recorder.update { $0.timeouts += 1 }
            if let id = entry.requestID { abandoned.insert(id) }
            requests.removeValue(forKey: entry.requestID ?? -1)
            noteError("md/getChart not answered within \(duration) (\(chart))")
            if entry.isLive, entry.subscribeContinuation == nil, let id = connection?.id {
                // A re-subscription the server does not answer: the socket is unhealthy; start over.
                reset(id, reason: "a re-subscription was not answered within \(duration)")
                return
            }
            fail(handle, CandleSourceError(.timeout, "md/getChart not answered within \(duration)", chart: chart))
        case .streaming:
            recorder.update { $0.timeouts += 1 }
            noteError("history stalled for \(duration) before its end (\(chart))")
            sendCancel(entry)
            fail(
                handle,
                CandleSourceError(
                    .timeout, "history data stalled for \(duration) before its end (eoh)", chart: chart))
        case .penaltyWait:
            break
        }
    }

    /// Ends an entry with `error` (history: the continuation; live: the first-subscription wait, or the stream).
    private func fail(_ handle: Int, _ error: any Error) {
        guard let entry = charts[handle] else { return }
        remove(handle)
        switch entry.kind {
        case .history(let continuation):
            continuation?.resume(throwing: error)
        case .live(let events):
            if let subscribed = entry.subscribeContinuation {
                subscribed.resume(throwing: error)
                events.finish()
            } else {
                events.finish(throwing: error is CancellationError ? nil : error)
            }
        }
    }

    private func remove(_ handle: Int) {
        guard let entry = charts.removeValue(forKey: handle) else { return }
        entry.timer?.cancel()
        for id in entry.subscriptionIDs where subscriptions[id] == handle { subscriptions.removeValue(forKey: id) }
        if let id = entry.requestID, case .chart(let owner) = requests[id], owner == handle {
            requests.removeValue(forKey: id)
            if entry.phase == .awaitingResponse { abandoned.insert(id) }
        }
        publishCounts()
    }

    private func publishCounts() {
        var active = 0
        var live = 0
        for entry in charts.values {
            if entry.phase == .streaming { active += 1 }
            if entry.isLive { live += 1 }
        }
        recorder.update {
            $0.activeCharts = active
            $0.liveSubscriptions = live
        }
    }

    private func noteError(_ message: String) {
        recorder.error(message, at: wallClock.now())
    }

    // MARK: - Helpers

    static func chartError(code: String, text: String?, chart: ChartKey) -> CandleSourceError {
        let detail = text.map { ": \(excerpt($0))" } ?? ""
        switch code {
        case "UnknownSymbol":
            return CandleSourceError(.unknownSymbol, "the broker does not know the symbol\(detail)", chart: chart)
        case "NoServicePlan", "OperationNotSupported":
            return CandleSourceError(.notSupported, "the broker refused the chart (\(code))\(detail)", chart: chart)
        default:
            return CandleSourceError(
                .unavailable, "the broker could not serve the chart (\(code))\(detail)", chart: chart)
        }
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

    static func excerpt(_ text: String, _ limit: Int = 120) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }

    nonisolated static func describe(_ error: any Error) -> String {
        excerpt("\(error)", 200)
    }
}

/// A task the core can cancel, whatever its result type.
protocol CancellableTask: Sendable {
    func cancel()
}

extension Task: CancellableTask {}

extension Array where Element: Hashable {
    fileprivate func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}

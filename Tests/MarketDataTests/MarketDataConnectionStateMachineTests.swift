import CandleCore
import Collectors
import Foundation
import Logging
import Testing
import TokenStore

@testable import MarketData

/// The market-data client's state machine driven as a pure value: events in, actions out; no socket, no clock.
@Suite("Market-data client: connection state machine")
struct MarketDataConnectionStateMachineTests {
    typealias Machine = MarketDataConnectionStateMachine

    static let chart = ChartKey(symbol: "NQZ5", instrument: .nq, timeframe: .fiveMinutes)
    static let closest = Date(timeIntervalSince1970: 1_764_946_800)
    static let token = Token(
        accessToken: "access-1", marketDataToken: "md-1", expirationTime: Date(timeIntervalSince1970: 2_000_000_000),
        userID: 7, login: "demo", issuedAt: Date(timeIntervalSince1970: 1_764_000_000))
    static let renewed = Token(
        accessToken: "access-2", marketDataToken: "md-2", expirationTime: Date(timeIntervalSince1970: 2_000_100_000),
        userID: 7, login: "demo", issuedAt: Date(timeIntervalSince1970: 1_764_100_000))

    static func configuration(
        malformedFramesBeforeReset: Int = 1, maximumPenaltyRetries: Int = 5
    ) -> MarketDataClientConfiguration {
        MarketDataClientConfiguration(
            url: URL(string: "ws://127.0.0.1:1/v1/websocket")!, requestTimeout: .seconds(7),
            historyInactivityTimeout: .seconds(9), connectionWaitTimeout: .seconds(11), backoffInitial: .seconds(1),
            backoffMultiplier: 2, backoffCap: .seconds(8), backoffJitter: 0.5,
            maximumPenaltyRetries: maximumPenaltyRetries, malformedFramesBeforeReset: malformedFramesBeforeReset)
    }

    static func machine(_ configuration: MarketDataClientConfiguration = configuration()) -> Machine {
        var machine = Machine(
            configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let started = machine.start()
        #expect(started)
        return machine
    }

    /// Connects and authorizes with ``token``; returns the connection id. The authorize request has id 1 on the
    /// first connection.
    static func ready(_ machine: inout Machine) throws -> Int {
        let id = try Self.open(&machine)
        #expect(machine.phase == .connecting)
        let opened = machine.frameReceived(.open, on: id)
        #expect(opened.fetchTokens == [id])
        #expect(machine.phase == .authorizing)
        let authorize = machine.tokenFetched(id, .success(token))
        let sent = try #require(authorize.sent.first)
        #expect(sent.hasPrefix("authorize\n") && sent.hasSuffix("\n\nmd-1"))
        let requestID = try #require(Int(sent.split(separator: "\n")[1]))
        _ = machine.frameReceived(response(requestID, 200), on: id)
        #expect(machine.phase == .ready)
        #expect(machine.statistics.isConnected)
        return id
    }

    /// A new connection whose handshake is done; returns its id.
    static func open(_ machine: inout Machine, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let requested = machine.connectionRequested()
        let id = try #require(requested, sourceLocation: sourceLocation)
        let started = machine.sessionStarted(id)
        #expect(started, sourceLocation: sourceLocation)
        return id
    }

    static func response(_ id: Int, _ status: Int, _ payload: MarketDataPayload = .none) -> MarketDataFrame {
        .messages([.response(MarketDataResponse(id: id, status: status, payload: payload))])
    }

    static func firstRequestID(
        _ actions: [Machine.Action], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Int {
        let text = try #require(actions.sent.first, sourceLocation: sourceLocation)
        return try #require(requestID(text), sourceLocation: sourceLocation)
    }

    static func requestID(_ text: String) -> Int? {
        Int(text.split(separator: "\n", omittingEmptySubsequences: false)[1])
    }

    static func bar(_ minute: Int64) -> ChartBar {
        ChartBar(startMilliseconds: 1_764_774_000_000 + minute * 60_000, open: 1, high: 2, low: 0.5, close: 1.5)
    }

    // MARK: - Connection and authorization

    @Test("connect, `o`, token, authorize 200: ready, and a queued history page goes out")
    func happyPath() throws {
        var machine = Self.machine()
        let handle = machine.makeHandle()
        let queued = machine.historyRequested(
            handle: handle, chart: Self.chart, closestTimestamp: Self.closest, asFarAsTimestamp: nil,
            asMuchAsElements: 10)
        #expect(queued.sent.isEmpty)
        #expect(queued.timers == [.chart(handle: handle, generation: 1, after: .seconds(11))])
        let id = try Self.open(&machine)
        let opened = machine.frameReceived(.open, on: id)
        #expect(opened.fetchTokens == [id])
        let authorize = machine.tokenFetched(id, .success(Self.token))
        #expect(authorize.sent == [MarketDataWire.authorize(id: 1, token: "md-1")])
        let authorized = machine.frameReceived(Self.response(1, 200), on: id)
        let getChart = try #require(authorized.sent.first)
        #expect(getChart.hasPrefix("md/getChart\n2\n"))
        #expect(authorized.timers == [.chart(handle: handle, generation: 2, after: .seconds(7))])
        #expect(machine.statistics.socketsOpened == 1)
        #expect(machine.statistics.authorizationsSucceeded == 1)
        #expect(machine.statistics.chartRequests == 1)
    }

    @Test("401 on the market-data token tries the access token; 401 again resets the connection")
    func authorizationFailure() throws {
        var machine = Self.machine()
        let id = try Self.open(&machine)
        _ = machine.frameReceived(.open, on: id)
        _ = machine.tokenFetched(id, .success(Self.token))
        let retry = machine.frameReceived(Self.response(1, 401, .text("Access is denied")), on: id)
        #expect(retry.sent == [MarketDataWire.authorize(id: 2, token: "access-1")])
        let refused = machine.frameReceived(Self.response(2, 401, .text("Access is denied")), on: id)
        #expect(refused.closesOutgoing)
        #expect(refused.errors.contains { $0.contains("authorize refused: 401") })
        #expect(machine.statistics.authorizationsFailed == 2)
        let ended = machine.connectionEnded(id, error: nil, closeCode: 1000)
        #expect(ended.reconnectAttempt == 1)
        #expect(machine.phase == .backoff)
        // The next connection: the provider hands out the same (refused) token.
        let next = try Self.open(&machine)
        _ = machine.frameReceived(.open, on: next)
        let again = machine.tokenFetched(next, .success(Self.token))
        #expect(again.sent.isEmpty)
        #expect(again.tokensRefused.map(\.accessToken) == ["access-1"])
        #expect(again.closesOutgoing)
        let endedAgain = machine.connectionEnded(next, error: nil, closeCode: nil)
        #expect(endedAgain.reconnectAttempt == 2)
    }

    @Test("the token provider failing resets the connection")
    func tokenProviderFails() throws {
        struct Boom: Error {}
        var machine = Self.machine()
        let id = try Self.open(&machine)
        _ = machine.frameReceived(.open, on: id)
        let failed = machine.tokenFetched(id, .failure(Boom()))
        #expect(failed.closesOutgoing)
        #expect(machine.statistics.authorizationsFailed == 1)
    }

    @Test("a close frame while authorizing stops reading; the page waits for the next connection")
    func closeWhileAuthorizing() throws {
        var machine = Self.machine()
        let handle = machine.makeHandle()
        _ = machine.historyRequested(
            handle: handle, chart: Self.chart, closestTimestamp: Self.closest, asFarAsTimestamp: nil,
            asMuchAsElements: nil)
        let id = try Self.open(&machine)
        _ = machine.frameReceived(.open, on: id)
        _ = machine.tokenFetched(id, .success(Self.token))
        let closed = machine.frameReceived(.close(code: 3001, reason: "bye"), on: id)
        #expect(closed.closesOutgoing)
        #expect(closed.stopsReading)
        let ended = machine.connectionEnded(id, error: CancellationError(), closeCode: nil)
        #expect(ended.reconnectAttempt == 1)
        #expect(ended.failures.isEmpty)
        #expect(machine.charts[handle]?.phase == .waitingForConnection)
        #expect(machine.statistics.reconnects == 1)
        #expect(ended.errors.contains { $0.contains("server closed the session: c[3001") })
        // A frame of the old connection is refused.
        let stale = machine.frameReceived(.heartbeat, on: id)
        #expect(stale.stopsReading)
    }

    @Test("connect timeout: reset and cancel before authorization, nothing once ready")
    func connectTimeout() throws {
        var machine = Self.machine()
        let requested = machine.connectionRequested()
        let id = try #require(requested)
        let early = machine.connectTimeoutFired(id)
        #expect(early.cancelsAttempt)
        #expect(!early.closesOutgoing)
        _ = machine.connectionEnded(id, error: CancellationError(), closeCode: nil)
        #expect(machine.statistics.connectFailures == 1)
        let next = try Self.ready(&machine)
        let afterReady = machine.connectTimeoutFired(next)
        #expect(afterReady.isEmpty)
    }

    @Test("reconnect backoff grows per failed connection, is capped, jittered, and restarts after an authorized one")
    func reconnectBackoff() throws {
        let configuration = Self.configuration()
        #expect(Machine.backoffDelay(attempt: 1, random: 0, configuration: configuration) == .seconds(1))
        #expect(Machine.backoffDelay(attempt: 2, random: 0, configuration: configuration) == .seconds(2))
        #expect(Machine.backoffDelay(attempt: 3, random: 0, configuration: configuration) == .seconds(4))
        #expect(Machine.backoffDelay(attempt: 9, random: 0, configuration: configuration) == .seconds(8))
        #expect(Machine.backoffDelay(attempt: 2, random: 1, configuration: configuration) == .seconds(1))
        var machine = Self.machine()
        for expected in 1...3 {
            let requested = machine.connectionRequested()
            let id = try #require(requested)
            let ended = machine.connectionEnded(id, error: nil, closeCode: nil)
            #expect(ended.reconnectAttempt == expected)
        }
        let id = try Self.ready(&machine)
        let ended = machine.connectionEnded(id, error: nil, closeCode: 1006)
        #expect(ended.reconnectAttempt == 1)
        #expect(machine.failedConnections == 0)
    }

    // MARK: - Frames

    @Test("a malformed frame resets the connection (threshold 1) or is counted (threshold 2)")
    func malformedFrameResets() throws {
        struct Garbage: Error {}
        var machine = Self.machine()
        let id = try Self.ready(&machine)
        let reset = machine.malformedFrame(Garbage(), on: id)
        #expect(reset.closesOutgoing)
        #expect(reset.stopsReading)
        #expect(machine.statistics.malformedFrames == 1)
        #expect(reset.errors.count == 1)

        var tolerant = Self.machine(Self.configuration(malformedFramesBeforeReset: 2))
        let other = try Self.ready(&tolerant)
        let counted = tolerant.malformedFrame(Garbage(), on: other)
        #expect(!counted.stopsReading)
        let resetting = tolerant.malformedFrame(Garbage(), on: other)
        #expect(resetting.stopsReading)
    }

    @Test("a server shutdown event resets the connection")
    func shutdownEvent() throws {
        var machine = Self.machine()
        let id = try Self.ready(&machine)
        let actions = machine.frameReceived(.messages([.shutdown(reasonCode: "Maintenance", reason: nil)]), on: id)
        #expect(actions.closesOutgoing)
        #expect(actions.stopsReading)
        #expect(machine.statistics.shutdownEvents == 1)
    }

    // MARK: - Charts

    @Test("history: subscription ids, packets, eoh → bars delivered and the chart cancelled")
    func historyPage() throws {
        var machine = Self.machine()
        _ = try Self.ready(&machine)
        let handle = machine.makeHandle()
        let sent = machine.historyRequested(
            handle: handle, chart: Self.chart, closestTimestamp: Self.closest, asFarAsTimestamp: nil,
            asMuchAsElements: 2)
        let request = try Self.firstRequestID(sent)
        let id = try #require(machine.connection?.id)
        let subscribed = machine.frameReceived(
            Self.response(request, 200, .chartSubscription(ChartSubscription(historicalId: 31, realtimeId: 32))),
            on: id)
        #expect(subscribed.timers.count == 1)
        #expect(machine.statistics.activeCharts == 1)
        _ = machine.frameReceived(.messages([.chart([ChartPacket(id: 31, bars: [Self.bar(0)])])]), on: id)
        let done = machine.frameReceived(
            .messages([.chart([ChartPacket(id: 32, bars: [Self.bar(5)], endOfHistory: true)])]), on: id)
        #expect(done.deliveredHistory.first?.handle == handle)
        #expect(done.deliveredHistory.first?.bars == [Self.bar(0), Self.bar(5)])
        #expect(done.sent.filter { $0.hasPrefix("md/cancelChart") }.count == 2)
        #expect(machine.charts.isEmpty)
        #expect(machine.statistics.barsReceived == 2)
        #expect(machine.statistics.activeCharts == 0)
    }

    @Test("penalty ticket: wait (wall clock), resend with the ticket; a captcha fails with rateLimited")
    func penalty() throws {
        var machine = Self.machine()
        let id = try Self.ready(&machine)
        let handle = machine.makeHandle()
        let first = machine.historyRequested(
            handle: handle, chart: Self.chart, closestTimestamp: Self.closest, asFarAsTimestamp: nil,
            asMuchAsElements: 2)
        let request = try Self.firstRequestID(first)
        let penalized = machine.frameReceived(
            Self.response(request, 200, .penalty(PenaltyTicket(ticket: "T-1", seconds: 3))), on: id)
        let wait = try #require(penalized.timers.first)
        #expect(wait == .penalty(handle: handle, generation: 2, seconds: 3))
        #expect(penalized.sent.isEmpty)
        #expect(machine.statistics.penalties == 1)
        // The request's own (now stale) timeout fires: ignored.
        let stale = machine.timerFired(.chart(handle: handle, generation: 1, after: .seconds(7)))
        #expect(stale.isEmpty)
        let resent = machine.timerFired(wait)
        let again = try #require(resent.sent.first)
        #expect(again.hasPrefix("md/getChart\n") && again.contains("T-1"))
        let second = try #require(Self.requestID(again))
        let captcha = machine.frameReceived(
            Self.response(second, 200, .penalty(PenaltyTicket(ticket: "T-2", seconds: 3, captcha: true))), on: id)
        let error = try #require(captcha.failures.first?.error as? CandleSourceError)
        #expect(error.code == .rateLimited)
    }

    @Test("too many penalties in a row fail with rateLimited")
    func tooManyPenalties() throws {
        var machine = Self.machine(Self.configuration(maximumPenaltyRetries: 0))
        let id = try Self.ready(&machine)
        let handle = machine.makeHandle()
        let first = machine.historyRequested(
            handle: handle, chart: Self.chart, closestTimestamp: Self.closest, asFarAsTimestamp: nil,
            asMuchAsElements: 2)
        let request = try Self.firstRequestID(first)
        let failed = machine.frameReceived(
            Self.response(request, 200, .penalty(PenaltyTicket(ticket: "T", seconds: 1))), on: id)
        #expect((failed.failures.first?.error as? CandleSourceError)?.code == .rateLimited)
    }

    @Test("deadlines: no connection → unavailable; no answer → timeout and a late answer is cancelled")
    func deadlines() throws {
        var machine = Self.machine()
        let waiting = machine.makeHandle()
        let queued = machine.historyRequested(
            handle: waiting, chart: Self.chart, closestTimestamp: Self.closest, asFarAsTimestamp: nil,
            asMuchAsElements: 1)
        let unavailable = machine.timerFired(try #require(queued.timers.first))
        #expect((unavailable.failures.first?.error as? CandleSourceError)?.code == .unavailable)

        let id = try Self.ready(&machine)
        let handle = machine.makeHandle()
        let sent = machine.historyRequested(
            handle: handle, chart: Self.chart, closestTimestamp: Self.closest, asFarAsTimestamp: nil,
            asMuchAsElements: 1)
        let request = try Self.firstRequestID(sent)
        let timedOut = machine.timerFired(try #require(sent.timers.first))
        #expect((timedOut.failures.first?.error as? CandleSourceError)?.code == .timeout)
        #expect(machine.statistics.timeouts == 1)
        let late = machine.frameReceived(
            Self.response(request, 200, .chartSubscription(ChartSubscription(historicalId: 41, realtimeId: 41))),
            on: id)
        #expect(late.sent.count == 1 && late.sent[0].hasPrefix("md/cancelChart"))
    }

    @Test("401 on md/getChart resets the socket; the page is sent again on the next connection")
    func chartUnauthorized() throws {
        var machine = Self.machine()
        let id = try Self.ready(&machine)
        let handle = machine.makeHandle()
        let sent = machine.historyRequested(
            handle: handle, chart: Self.chart, closestTimestamp: Self.closest, asFarAsTimestamp: nil,
            asMuchAsElements: 1)
        let request = try Self.firstRequestID(sent)
        let unauthorized = machine.frameReceived(Self.response(request, 401), on: id)
        #expect(unauthorized.closesOutgoing)
        _ = machine.connectionEnded(id, error: nil, closeCode: 1000)
        #expect(machine.charts[handle]?.attempts == 1)
        #expect(machine.charts[handle]?.phase == .waitingForConnection)
    }

    @Test("live: first answer confirms; a lost connection interrupts; the re-subscription resumes")
    func liveInterruptedAndResumed() throws {
        var machine = Self.machine()
        let id = try Self.ready(&machine)
        let handle = machine.makeHandle()
        let sent = machine.liveRequested(handle: handle, chart: Self.chart, asMuchAsElements: 1)
        let request = try Self.firstRequestID(sent)
        let confirmed = machine.frameReceived(
            Self.response(request, 200, .chartSubscription(ChartSubscription(historicalId: 51, realtimeId: 52))),
            on: id)
        #expect(confirmed.confirmed == [handle])
        _ = machine.frameReceived(.messages([.chart([ChartPacket(id: 51, endOfHistory: true)])]), on: id)
        let live = machine.frameReceived(.messages([.chart([ChartPacket(id: 52, bars: [Self.bar(10)])])]), on: id)
        #expect(live.liveEvents.count == 1)
        let lost = machine.connectionEnded(id, error: nil, closeCode: 1006)
        #expect(lost.liveEvents.contains { if case .interrupted = $0 { true } else { false } })
        #expect(lost.timers.isEmpty)
        let next = try Self.open(&machine)
        _ = machine.frameReceived(.open, on: next)
        let authorize = machine.tokenFetched(next, .success(Self.token))
        let authorizeID = try Self.firstRequestID(authorize)
        let resubscribe = machine.frameReceived(Self.response(authorizeID, 200), on: next)
        let again = try Self.firstRequestID(resubscribe)
        let resumed = machine.frameReceived(
            Self.response(again, 200, .chartSubscription(ChartSubscription(historicalId: 61, realtimeId: 62))),
            on: next)
        #expect(resumed.confirmed.isEmpty)
        #expect(resumed.liveEvents.contains { if case .resumed = $0 { true } else { false } })
    }

    @Test("cancelling a streaming chart cancels it at the broker and fails the entry with CancellationError")
    func cancelRequest() throws {
        var machine = Self.machine()
        let id = try Self.ready(&machine)
        let handle = machine.makeHandle()
        let sent = machine.liveRequested(handle: handle, chart: Self.chart, asMuchAsElements: 1)
        let request = try Self.firstRequestID(sent)
        _ = machine.frameReceived(
            Self.response(request, 200, .chartSubscription(ChartSubscription(historicalId: 71, realtimeId: 71))),
            on: id)
        let cancelled = machine.cancelRequested(handle)
        #expect(cancelled.sent.count == 1 && cancelled.sent[0].hasPrefix("md/cancelChart"))
        #expect(cancelled.failures.first?.error is CancellationError)
        let twice = machine.cancelRequested(handle)
        #expect(twice.isEmpty)
    }

    // MARK: - Token renewal

    @Test("a renewed token re-authorizes the open socket; the same token does nothing; no answer resets")
    func tokenRenewal() throws {
        var machine = Self.machine()
        let id = try Self.ready(&machine)
        let same = machine.tokenRenewed(id, token: Self.token)
        #expect(same.isEmpty)
        let reauthorize = machine.tokenRenewed(id, token: Self.renewed)
        #expect(reauthorize.sent == [MarketDataWire.authorize(id: 2, token: "md-2")])
        #expect(reauthorize.timers == [.reauthorization(connection: id, request: 2, after: .seconds(7))])
        // A second renewal while one is in flight waits.
        let inFlight = machine.tokenRenewed(id, token: Self.renewed)
        #expect(inFlight.isEmpty)
        _ = machine.frameReceived(Self.response(2, 200), on: id)
        #expect(machine.statistics.reauthorizations == 1)
        #expect(machine.authorizedToken(id)?.accessToken == "access-2")
        // The answered re-authorization's timer is stale.
        let stale = machine.timerFired(.reauthorization(connection: id, request: 2, after: .seconds(7)))
        #expect(stale.isEmpty)

        let third = Token(
            accessToken: "access-3", marketDataToken: "md-3", expirationTime: Self.renewed.expirationTime, userID: 7,
            login: "demo", issuedAt: Self.renewed.issuedAt)
        let unanswered = machine.tokenRenewed(id, token: third)
        let timer = try #require(unanswered.timers.first)
        let reset = machine.timerFired(timer)
        #expect(reset.closesOutgoing)
        #expect(machine.statistics.timeouts == 1)
    }

    @Test("a refused renewed token keeps the current authorization")
    func renewedTokenRefused() throws {
        var machine = Self.machine()
        let id = try Self.ready(&machine)
        _ = machine.tokenRenewed(id, token: Self.renewed)
        _ = machine.frameReceived(Self.response(2, 401), on: id)
        let last = machine.frameReceived(Self.response(3, 401), on: id)
        #expect(!last.closesOutgoing)
        #expect(machine.authorizedToken(id)?.accessToken == "access-1")
        #expect(machine.phase == .ready)
    }

    // MARK: - Shutdown

    @Test("shutdown cancels streaming charts, fails entries with closed and closes the socket; then stop")
    func shutdown() throws {
        var machine = Self.machine()
        let id = try Self.ready(&machine)
        let handle = machine.makeHandle()
        let sent = machine.liveRequested(handle: handle, chart: Self.chart, asMuchAsElements: 1)
        let request = try Self.firstRequestID(sent)
        _ = machine.frameReceived(
            Self.response(request, 200, .chartSubscription(ChartSubscription(historicalId: 81, realtimeId: 82))),
            on: id)
        let shutdown = machine.shutdownRequested()
        #expect(shutdown.sent.filter { $0.hasPrefix("md/cancelChart") }.count == 2)
        #expect((shutdown.failures.first?.error as? CandleSourceError)?.code == .closed)
        #expect(shutdown.closesOutgoing)
        #expect(!machine.acceptsRequests)
        let ended = machine.connectionEnded(id, error: nil, closeCode: 1000)
        #expect(ended.stopsConnecting)
        #expect(machine.phase == .stopped)
        let noConnection = machine.connectionRequested()
        #expect(noConnection == nil)
        let restarted = machine.start()
        #expect(!restarted)
    }

    @Test("shutdown without a socket stops the loop at once")
    func shutdownWithoutSocket() {
        var machine = Self.machine()
        let stopping = machine.shutdownRequested()
        #expect(stopping.stopsConnecting)
        let handle = machine.makeHandle()
        let refused = machine.historyRequested(
            handle: handle, chart: Self.chart, closestTimestamp: Self.closest, asFarAsTimestamp: nil,
            asMuchAsElements: 1)
        #expect((refused.failures.first?.error as? CandleSourceError)?.code == .closed)
    }
}

/// Reading the actions in tests.
extension [MarketDataConnectionStateMachine.Action] {
    var sent: [String] {
        compactMap {
            if case .send(let text) = $0 { return text }
            return nil
        }
    }

    var timers: [MarketDataConnectionStateMachine.Timer] {
        compactMap {
            if case .schedule(let timer) = $0 { return timer }
            return nil
        }
    }

    var errors: [String] {
        compactMap {
            if case .noteError(let text) = $0 { return text }
            return nil
        }
    }

    var fetchTokens: [Int] {
        compactMap {
            if case .fetchToken(let id) = $0 { return id }
            return nil
        }
    }

    var tokensRefused: [Token] {
        compactMap {
            if case .notifyTokenRefused(let token) = $0 { return token }
            return nil
        }
    }

    var failures: [(handle: Int, error: any Error)] {
        compactMap {
            if case .fail(let handle, let error) = $0 { return (handle, error) }
            return nil
        }
    }

    var deliveredHistory: [(handle: Int, bars: [ChartBar])] {
        compactMap {
            if case .deliverHistory(let handle, let bars) = $0 { return (handle, bars) }
            return nil
        }
    }

    var confirmed: [Int] {
        compactMap {
            if case .confirmSubscription(let handle) = $0 { return handle }
            return nil
        }
    }

    var liveEvents: [LiveChartEvent] {
        compactMap {
            if case .deliverLive(_, let event) = $0 { return event }
            return nil
        }
    }

    var reconnectAttempt: Int? {
        for action in self {
            if case .reconnect(let attempt) = action { return attempt }
        }
        return nil
    }

    var closesOutgoing: Bool { contains { if case .closeOutgoing = $0 { true } else { false } } }
    var stopsReading: Bool { contains { if case .stopReading = $0 { true } else { false } } }
    var cancelsAttempt: Bool { contains { if case .cancelConnectionAttempt = $0 { true } else { false } } }
    var stopsConnecting: Bool { contains { if case .stopConnecting = $0 { true } else { false } } }
}

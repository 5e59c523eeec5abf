import CandleCore
import Foundation
import Testing

@testable import TradovateSimulator

/// Drives the WebSocket protocol logic as a pure value: no sockets, no clocks.
@Suite("WebSocket connection state machine")
struct WebSocketConnectionStateMachineTests {
    typealias Machine = WebSocketConnectionStateMachine

    let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    let symbol = SimulatedMarket.ResolvedSymbol(instrument: Instrument.builtIns[0], contract: nil)

    func machine(
        _ configure: (inout SimulatorConfiguration) -> Void = { _ in }, dropAtFrame: Int? = nil,
        malformedAtFrame: Int? = nil
    ) -> Machine {
        var configuration = SimulatorConfiguration()
        configure(&configuration)
        return Machine(
            configuration: .init(webSocket: configuration.webSocket, charts: configuration.charts),
            firstChartID: 10_000, now: t0, dropAtFrame: dropAtFrame, malformedAtFrame: malformedAtFrame)
    }

    func request(_ endpoint: String, id: Int, body: String = "") -> WebSocketRequest {
        WebSocketRequest(parsing: "\(endpoint)\n\(id)\n\n\(body)")!
    }

    /// The JSON text of a single queued response.
    func text(_ item: OutboundItem?) -> String? {
        if case .messages(let messages)? = item, messages.count == 1, case .json(let text) = messages[0] { return text }
        return nil
    }

    func text(_ action: Machine.Action) -> String? {
        if case .write(let item) = action { return text(item) }
        return nil
    }

    /// Authorizes with token `tok` (expiring at `expiresAt`), checking the actions on the way.
    func authorize(_ m: inout Machine, id: Int = 1, expiresAt: Date? = nil) {
        let action = m.requestStarted(request("authorize", id: id, body: " tok\n"), now: t0)
        guard case .authorize(let requestID, let token) = action else {
            Issue.record("expected .authorize, got \(action)")
            return
        }
        #expect(requestID == id && token == "tok")
        let session = Machine.Session(token: token, expiresAt: expiresAt, user: "demo")
        #expect(text(m.authorizeSucceeded(requestID: id, session: session)) == #"{"s":200,"i":\#(id)}"#)
        #expect(m.state == .authorized(session))
    }

    // MARK: - Frames

    @Test("A request split over continuation frames is parsed once complete; [] is a heartbeat")
    func framing() {
        var m = machine()
        guard case .none = m.textReceived(Array("md/getChart\n4".utf8), fin: false, now: t0) else {
            Issue.record("an incomplete message must do nothing")
            return
        }
        let action = m.textReceived(Array("\n\n{}".utf8), fin: true, now: t0)
        guard case .requestReceived(let request) = action else {
            Issue.record("expected .requestReceived, got \(action)")
            return
        }
        #expect(request.endpoint == "md/getChart" && request.id == 4 && request.body == "{}")
        guard case .heartbeatReceived = m.textReceived(Array(" [] ".utf8), fin: true, now: t0) else {
            Issue.record("[] is a heartbeat")
            return
        }
    }

    @Test("A malformed frame with an id gets 400; without an id it gets nothing")
    func malformed() {
        var m = machine()
        guard case .malformedRequest(let response) = m.textReceived(Array("md/getChart\n7".utf8), fin: true, now: t0)
        else {
            Issue.record("expected .malformedRequest")
            return
        }
        #expect(text(response)?.hasPrefix(#"{"s":400,"i":7,"d":"Malformed request"#) == true)
        guard case .malformedRequest(nil) = m.textReceived(Array("garbage".utf8), fin: true, now: t0) else {
            Issue.record("no id, no response")
            return
        }
    }

    // MARK: - Authorization

    @Test("Requests before authorize get 401; a bad token gets 401 and leaves the socket unauthorized")
    func unauthorized() {
        var m = machine()
        #expect(
            text(m.requestStarted(request("md/getChart", id: 2, body: "{}"), now: t0))
                == #"{"s":401,"i":2,"d":"Access is denied"}"#)
        guard case .authorize(3, "wrong") = m.requestStarted(request("authorize", id: 3, body: "wrong"), now: t0) else {
            Issue.record("expected .authorize")
            return
        }
        #expect(text(m.authorizeFailed(requestID: 3)) == #"{"s":401,"i":3,"d":"Access is denied"}"#)
        #expect(m.state == .awaitingAuthorization)
        #expect(m.authorizedToken == nil)
    }

    @Test("Quoted tokens are unquoted only when configured")
    func quotedToken() {
        var strict = machine()
        guard case .authorize(_, let token) = strict.requestStarted(request("authorize", id: 1, body: "\"t\""), now: t0)
        else { Issue.record("expected .authorize"); return }
        #expect(token == "\"t\"")
        var lenient = machine { $0.webSocket.acceptQuotedToken = true }
        guard
            case .authorize(_, let unquoted) = lenient.requestStarted(
                request("authorize", id: 1, body: "\"t\""), now: t0)
        else { Issue.record("expected .authorize"); return }
        #expect(unquoted == "t")
    }

    @Test("Authorized requests go to the access checks under their canonical endpoint")
    func endpoints() {
        var m = machine()
        authorize(&m)
        guard case .checkAccess(_, let endpoint, let token) = m.requestStarted(request("MD/GETCHART", id: 2), now: t0)
        else { Issue.record("expected .checkAccess"); return }
        #expect(endpoint == "md/getChart" && token == "tok")
        var exact = machine { $0.webSocket.caseInsensitiveEndpoints = false }
        authorize(&exact)
        guard case .checkAccess(_, let kept, _) = exact.requestStarted(request("MD/GETCHART", id: 2), now: t0) else {
            Issue.record("expected .checkAccess"); return
        }
        #expect(kept == "MD/GETCHART")
    }

    @Test("Access verdicts: rate limit 429, penalty terms with 200, granted dispatches")
    func penalties() {
        var m = machine()
        authorize(&m)
        let chart = request("md/getChart", id: 5)
        #expect(
            text(m.accessChecked(chart, endpoint: "md/getChart", token: "tok", verdict: .rateLimited))
                == #"{"s":429,"i":5}"#)
        let terms = JSONValue.object(["p-ticket": .string("abc"), "p-time": .int(3)])
        #expect(
            text(m.accessChecked(chart, endpoint: "md/getChart", token: "tok", verdict: .penalty(terms)))
                == #"{"s":200,"i":5,"d":{"p-ticket":"abc","p-time":3}}"#)
        guard
            case .dispatch(let dispatched, "md/getChart", "tok") = m.accessChecked(
                chart, endpoint: "md/getChart", token: "tok", verdict: .granted)
        else { Issue.record("expected .dispatch"); return }
        #expect(dispatched.id == 5)
    }

    // MARK: - Token expiry

    @Test("An expired token closes the socket with 3003 (default behaviour)")
    func tokenExpiryCloses() {
        var m = machine()
        authorize(&m, expiresAt: t0.addingTimeInterval(60))
        guard case .streamCharts([], let wake) = m.pumpFired(now: t0) else { Issue.record("expected a wake"); return }
        #expect(wake == t0.addingTimeInterval(60))
        guard
            case .close(3003, "Access token expired") = m.requestStarted(
                request("md/getChart", id: 2), now: t0.addingTimeInterval(60))
        else { Issue.record("expected close 3003"); return }
        #expect(m.isClosing && m.closeReason == "tokenExpired")
        guard case .stopTimers = m.pumpFired(now: t0.addingTimeInterval(61)) else { Issue.record("pump stops"); return }
    }

    @Test("Under .silence an expired token mutes responses and charts until a new authorize")
    func tokenExpirySilences() {
        var m = machine { $0.webSocket.tokenExpiry = .silence }
        authorize(&m, expiresAt: t0.addingTimeInterval(60))
        let later = t0.addingTimeInterval(90)
        guard case .none = m.requestStarted(request("md/getChart", id: 2), now: later) else {
            Issue.record("a silenced socket ignores requests"); return
        }
        #expect(m.isSilenced && !m.isClosing)
        guard case .none = m.respond(3, status: 200) else { Issue.record("no responses while silenced"); return }
        guard case .streamCharts([], nil) = m.pumpFired(now: later) else { Issue.record("no chart data"); return }
        authorize(&m, id: 4, expiresAt: later.addingTimeInterval(600))
        #expect(!m.isSilenced)
    }

    @Test("Under .keepOpen an expired token keeps serving")
    func tokenExpiryKeepsOpen() {
        var m = machine { $0.webSocket.tokenExpiry = .keepOpen }
        authorize(&m, expiresAt: t0)
        guard case .checkAccess = m.requestStarted(request("md/getChart", id: 2), now: t0.addingTimeInterval(5)) else {
            Issue.record("expected .checkAccess"); return
        }
    }

    // MARK: - Watchdog

    @Test("Watchdog: server h when idle, then heartbeat timeout 3001")
    func heartbeatTimeout() {
        var m = machine {
            $0.webSocket.authorizationTimeout = nil
            $0.webSocket.heartbeatTimeout = .seconds(30)
            $0.webSocket.serverHeartbeatInterval = .seconds(25)
        }
        guard case .scheduleWatchdog(let first) = m.watchdogFired(now: t0) else { Issue.record("schedule"); return }
        #expect(first == t0.addingTimeInterval(25))
        guard case .sendServerHeartbeat(let next) = m.watchdogFired(now: first) else { Issue.record("h"); return }
        #expect(next == t0.addingTimeInterval(30))
        guard case .close(3001, "Heartbeat timeout") = m.watchdogFired(now: next) else {
            Issue.record("expected close 3001"); return
        }
        #expect(m.closeReason == "heartbeatTimeout")
        guard case .stopTimers = m.watchdogFired(now: next) else { Issue.record("watchdog stops"); return }
    }

    @Test("Inbound frames defer the heartbeat timeout; an unauthorized socket still hits the authorization timeout")
    func authorizationTimeout() {
        var m = machine { $0.webSocket.serverHeartbeatInterval = nil }
        _ = m.textReceived(Array("[]".utf8), fin: true, now: t0.addingTimeInterval(20))
        guard case .scheduleWatchdog(let due) = m.watchdogFired(now: t0.addingTimeInterval(20)) else {
            Issue.record("schedule"); return
        }
        #expect(due == t0.addingTimeInterval(30))
        guard case .close(3002, "Not authorized") = m.watchdogFired(now: due) else {
            Issue.record("expected close 3002"); return
        }
        #expect(m.closeReason == "authorizationTimeout")

        var authorized = machine { $0.webSocket.serverHeartbeatInterval = nil }
        authorize(&authorized)
        _ = authorized.textReceived(Array("[]".utf8), fin: true, now: t0.addingTimeInterval(20))
        guard case .scheduleWatchdog(let heartbeatDue) = authorized.watchdogFired(now: t0.addingTimeInterval(30)) else {
            Issue.record("an authorized socket that sent [] stays open"); return
        }
        #expect(heartbeatDue == t0.addingTimeInterval(50))
    }

    // MARK: - Faults

    @Test("Drop after N frames: the Nth counted frame is sent, then the socket drops")
    func dropAfterFrames() {
        var m = machine()
        #expect(m.frameWillBeSent(now: t0) == .send)
        m.dropArmed(afterFrames: 2)
        #expect(m.frameWillBeSent(now: t0) == .send)
        #expect(m.frameWillBeSent(now: t0) == .sendThenDrop)
        m.frameDropped()
        #expect(m.isClosing && m.closeReason == "dropped")
        var armedAtOpen = machine(dropAtFrame: 1)
        #expect(armedAtOpen.frameWillBeSent(now: t0) == .sendThenDrop)
    }

    @Test("Malformed after N frames fires once; drop always acts")
    func malformedAfterFrames() {
        var m = machine(malformedAtFrame: 1)
        #expect(m.frameWillBeSent(now: t0) == .sendThenMalformed)
        #expect(m.frameWillBeSent(now: t0) == .send)
        m.malformedArmed(afterFrames: 0)
        #expect(m.frameWillBeSent(now: t0) == .sendThenMalformed)
        #expect(m.framesSent == 3)
        guard case .drop = m.dropRequested(reason: "fault") else { Issue.record("drop"); return }
        guard case .drop = m.dropRequested(reason: "again") else { Issue.record("drop again"); return }
        #expect(m.closeReason == "fault")
    }

    // MARK: - Charts

    @Test("Two getChart for one symbol open two subscriptions with fresh ids")
    func duplicateSubscription() {
        var m = machine()
        authorize(&m)
        guard case .startChart(let first, 1, let response) = m.chartRequested(requestID: 2, symbol: symbol, minutes: 1)
        else { Issue.record("expected .startChart"); return }
        #expect(text(response) == #"{"s":200,"i":2,"d":{"historicalId":10000,"realtimeId":10000}}"#)
        guard case .startChart(let second, 2, _) = m.chartRequested(requestID: 3, symbol: symbol, minutes: 1) else {
            Issue.record("expected .startChart"); return
        }
        #expect(first.realtimeId == 10_000 && second.realtimeId == 10_001)
        #expect(m.isStreaming(realtimeID: 10_000) && m.isStreaming(realtimeID: 10_001))
    }

    @Test("Distinct ids: historicalId = realtimeId + 1")
    func distinctIDs() {
        var m = machine { $0.charts.ids = .distinct(historyPacketsCarry: .historical) }
        authorize(&m)
        guard case .startChart(let subscription, _, _) = m.chartRequested(requestID: 2, symbol: symbol, minutes: 5)
        else { Issue.record("expected .startChart"); return }
        #expect(subscription.realtimeId == 10_000 && subscription.historicalId == 10_001 && subscription.minutes == 5)
        guard case .startChart(let next, _, _) = m.chartRequested(requestID: 3, symbol: symbol, minutes: 5) else {
            Issue.record("expected .startChart"); return
        }
        #expect(next.realtimeId == 10_002)
    }

    @Test("Real time starts once history went out; cancel by either id stops it")
    func streamAndCancel() {
        var m = machine { $0.charts.ids = .distinct(historyPacketsCarry: .historical) }
        authorize(&m)
        _ = m.chartRequested(requestID: 2, symbol: symbol, minutes: 1)
        guard case .streamCharts([], nil) = m.pumpFired(now: t0) else { Issue.record("nothing real-time yet"); return }
        guard case .wakePump = m.historySent(realtimeID: 10_000, lastSent: nil) else { Issue.record("wake"); return }
        guard case .streamCharts(let due, nil) = m.pumpFired(now: t0) else { Issue.record("stream"); return }
        #expect(due.map(\.realtimeId) == [10_000] && due[0].realtime)

        guard case .chartCancelled(0?, let response) = m.chartCancelled(requestID: 3, subscriptionID: 10_001) else {
            Issue.record("expected .chartCancelled"); return
        }
        #expect(text(response) == #"{"s":200,"i":3}"#)
        #expect(!m.isStreaming(realtimeID: 10_000))
        guard case .chartCancelled(0?, _) = m.chartCancelled(requestID: 4, subscriptionID: 42) else {
            Issue.record("an unknown id is answered too"); return
        }
        guard case .chartCancelled(nil, _) = m.chartCancelled(requestID: 5, subscriptionID: nil) else {
            Issue.record("no id: no count"); return
        }
        guard case .streamCharts([], nil) = m.pumpFired(now: t0) else { Issue.record("nothing left"); return }
    }

    // MARK: - Close

    @Test("Close is sent once; the first reason wins; timers stop; history stops")
    func close() {
        var m = machine()
        authorize(&m)
        _ = m.chartRequested(requestID: 2, symbol: symbol, minutes: 1)
        guard case .close(1000, "Server shutdown") = m.closeRequested(code: 1000, reason: "Server shutdown") else {
            Issue.record("expected .close"); return
        }
        guard case .none = m.closeRequested(code: 3004, reason: "revoked") else { Issue.record("only once"); return }
        m.inputEnded()
        #expect(m.closeReason == "Server shutdown")
        #expect(m.authorizedToken == "tok")
        #expect(!m.isStreaming(realtimeID: 10_000))
        guard case .stopTimers = m.watchdogFired(now: t0) else { Issue.record("watchdog stops"); return }
        guard case .stopTimers = m.pumpFired(now: t0) else { Issue.record("pump stops"); return }
    }

    @Test("A client close frame is acknowledged and recorded as the reason")
    func clientClose() {
        var m = machine()
        guard case .write(.acknowledgeClose) = m.clientClosed() else { Issue.record("acknowledge"); return }
        #expect(m.closeReason == "client")
        guard case .close = m.closeRequested(code: 1000, reason: "later") else { Issue.record("still closes"); return }
        #expect(m.closeReason == "client")
    }

    // MARK: - Frame assembly

    @Test("Batching: messages ready together share an a[...] frame unless configured otherwise")
    func batching() {
        var settings = SimulatorConfiguration.WebSocket()
        let items: [OutboundItem] = [.open, .messages([.json("1"), .json("2")]), .heartbeat]
        #expect(
            FrameAssembler(settings).assemble(items) == [
                .text(Array("o".utf8), isServerHeartbeat: false), .text(Array("a[1,2]".utf8), isServerHeartbeat: false),
                .text(Array("h".utf8), isServerHeartbeat: true),
            ])
        settings.batching = .separateFrames
        #expect(
            FrameAssembler(settings).assemble([.messages([.json("1"), .json("2")]), .drop]) == [
                .text(Array("a[1]".utf8), isServerHeartbeat: false),
                .text(Array("a[2]".utf8), isServerHeartbeat: false),
                .drop,
            ])
    }
}
